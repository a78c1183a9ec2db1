"""The web app's plumbing: templates and their filters, HTTP caching, security headers, JSON limits, error pages, rate limits and access checks."""
