"""Published graphs as HTTP endpoints: slugs that point at one exact graph version, API keys, calls, OpenAPI."""
