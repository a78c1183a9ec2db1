"""Typed ORM models, one module per domain; imported here so metadata is complete."""
from kb.models.article import Article, ArticleFeedback, ArticleStatus, Category, IndexOutbox
from kb.models.search_log import SearchLog
from kb.models.shop import Channel, ChannelKind, Setting, SpecialDay
from kb.models.ticket import LinkSource, Ticket, TicketArticleLink, TicketStatus, TicketSuggestion
from kb.models.user import Role, User

__all__ = [
    "Article", "ArticleFeedback", "ArticleStatus", "Category", "Channel", "ChannelKind",
    "IndexOutbox", "LinkSource", "Role", "SearchLog", "Setting", "SpecialDay", "Ticket", "TicketArticleLink",
    "TicketStatus", "TicketSuggestion", "User",
]
