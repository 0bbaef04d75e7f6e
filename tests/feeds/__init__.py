"""Feed plugins (spot, Goldback, …) run as real crawls against local stand-ins."""
