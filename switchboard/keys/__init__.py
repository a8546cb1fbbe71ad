"""Keys outside requests: the encryption keys' source, the listener that hears of revoked API keys, the API key commands of the CLI."""
