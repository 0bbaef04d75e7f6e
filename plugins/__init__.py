"""Built-in plugins of staktrakr (dealers, feeds, publishing)."""
