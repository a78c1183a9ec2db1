"""Editors' work: authoring and revisions, article health and readers' feedback, and the suggester (attached articles, missing articles)."""
