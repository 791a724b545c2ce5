"""Security cases (issue 8): every value is hostile; each test observes the safe outcome."""
