"""textstats: small statistics about plain text."""
