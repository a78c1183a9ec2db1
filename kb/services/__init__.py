"""Domain logic shared by views and the command line.

Functions take the SQLAlchemy session first and the actor and time as keyword
arguments; they flush but never commit, and signal business-rule violations
with the domain errors of :mod:`kb.services.errors`. No request objects here.
"""
