"""What every feature uses and that knows no feature."""
