"""Mail domains an organization proves it owns, and who may join by them."""
