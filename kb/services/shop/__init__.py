"""The shop itself: contact channels and their hours, settings and details, and the demo shop."""
