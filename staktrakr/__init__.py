"""staktrakr-pollers: bullion dealer prices, spot and Goldback feeds, published as a static JSON API."""

__version__ = "0.1.0"
