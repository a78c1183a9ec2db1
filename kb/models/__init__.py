"""Typed ORM models, one module per domain; imported here so metadata is complete."""
from kb.models.article import Article, ArticleFeedback, ArticleStatus, Category, IndexChange
from kb.models.auth import (AccountMailRequest, ApiToken, LoginSession, OrderAccessLink, PasswordResetToken,
                            RecoveryCode)
from kb.models.conversation import (Attachment, ArticleEvent, ArticleEventKind, Macro, MessageKind, SurveyResponse,
                                    TicketMessage, TicketViewer)
from kb.models.editorial import ArticleRevision, GapDecision, GapDecisionKind, GapSnapshot, SlugRedirect
from kb.models.mail import MailStatus, OutgoingMail
from kb.models.order import (CHANGEABLE, TIMELINE, Invoice, Order, OrderEvent, OrderLine, OrderStatus, Product,
                             Return, ReturnLine, ReturnStatus)
from kb.models.search_log import SearchLog
from kb.models.shop import Channel, ChannelKind, Setting, SpecialDay
from kb.models.ticket import LinkSource, Ticket, TicketArticleLink, TicketStatus, TicketSuggestion
from kb.models.user import Role, User
from kb.models.vector import TextVector

__all__ = [
    "AccountMailRequest", "OrderAccessLink",
    "Attachment", "ArticleEvent", "ArticleEventKind", "ArticleRevision", "GapDecision", "GapDecisionKind",
    "GapSnapshot", "Macro", "MessageKind", "SlugRedirect", "SurveyResponse", "TicketMessage", "TicketViewer",
    "ApiToken", "CHANGEABLE", "Invoice", "Order", "OrderEvent", "OrderLine", "OrderStatus", "PasswordResetToken", "RecoveryCode", "LoginSession",
    "Product", "Return", "ReturnLine", "ReturnStatus", "TIMELINE",
    "Article", "ArticleFeedback", "ArticleStatus", "Category", "Channel", "ChannelKind",
    "IndexChange", "LinkSource", "MailStatus", "OutgoingMail", "Role", "SearchLog", "Setting", "SpecialDay",
    "Ticket", "TicketArticleLink",
    "TicketStatus", "TicketSuggestion", "TextVector", "User",
]
