"""Physical simulator of a city deployment."""
