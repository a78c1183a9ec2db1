"""The words mail clients write around a quoted thread and under a message, per language.

Finnish, Swedish and English first, then the common languages of the clients' own headers
(German, French, Spanish, Italian, Dutch, Portuguese, Polish, Russian, Danish, Norwegian,
Czech, Hungarian, Turkish, Vietnamese). Every entry is a whole phrase compared in lower
case: a word is never matched inside a sentence of the customer's own.
"""
from __future__ import annotations

import re

#: Verbs of an attribution line ("On …, Anna <a@b> wrote:"), lower case.
WROTE = (
    "wrote", "writes", "has written", "sent", "kirjoitti", "kirjoittaa", "skrev", "skriver", "schrieb",
    "schreef", "a écrit", "écrit", "escribió", "ha escrito", "ha scritto", "scrisse", "escreveu",
    "napisał(a)", "napisał", "napisała", "написал(а)", "написала", "написал", "пишет", "napsal", "napsala",
    "írta", "yazdı", "kirjutas", "rašė", "đã viết", "viết",
)

#: Header names of an Outlook-style block ("From: … / Sent: … / To: … / Subject: …") by role.
HEADER_KEYS = {
    "from": ("from", "lähettäjä", "från", "von", "de", "van", "da", "od", "от", "fra", "frá", "kimden", "feladó",
             "từ", "afzender", "remetente", "absender", "expéditeur", "mittente", "nadawca", "发件人", "寄件者",
             "差出人", "보낸 사람"),
    "sent": ("sent", "date", "lähetetty", "päivämäärä", "päiväys", "skickat", "datum", "gesendet", "envoyé",
             "enviado", "fecha", "inviato", "data", "verzonden", "verstuurd", "wysłano", "wysłane", "отправлено",
             "дата", "sendt", "dato", "gönderildi", "tarih", "küldve", "dátum", "odesláno", "gửi", "ngày", "date sent",
             "发送时间", "日期", "寄件日期", "送信日時", "보낸 날짜"),
    "to": ("to", "vastaanottaja", "till", "an", "à", "a", "para", "aan", "do", "кому", "til", "kime", "címzett",
           "komu", "đến", "cc", "kopio", "kopia", "kopie", "cci", "bcc", "копия", "收件人", "抄送", "宛先", "받는 사람"),
    "subject": ("subject", "aihe", "ämne", "betreff", "objet", "asunto", "oggetto", "onderwerp", "assunto",
                "temat", "тема", "emne", "konu", "tárgy", "předmět", "chủ đề", "reply-to", "vastausosoite", "主题", "主旨",
                "件名", "제목"),
}
HEADER_ROLE = {word: role for role, words in HEADER_KEYS.items() for word in words}

#: Lines that separate the new text from the original message.
ORIGINAL_MESSAGE = (
    "original message", "reply message", "alkuperäinen viesti", "ursprungligt meddelande", "ursprüngliche nachricht",
    "antwort nachricht", "oprindelig meddelelse", "opprinnelig melding", "message d'origine", "message original",
    "mensaje original", "messaggio originale", "oorspronkelijk bericht", "origineel bericht", "mensagem original",
    "wiadomość oryginalna", "oryginalna wiadomość", "исходное сообщение", "původní zpráva", "eredeti üzenet",
    "orijinal mesaj", "原始邮件",
)

#: Lines that introduce forwarded content: what follows is what the customer wants read.
FORWARDED = (
    "forwarded message", "begin forwarded message", "forwarded by", "välitetty viesti", "edelleenlähetetty viesti",
    "välitetty sähköposti", "vidarebefordrat meddelande", "vidarebefordrat brev", "weitergeleitete nachricht",
    "message transféré", "début du message réexpédié", "mensaje reenviado", "messaggio inoltrato",
    "doorgestuurd bericht", "mensagem encaminhada", "przekazana wiadomość", "wiadomość przekazana dalej",
    "пересылаемое сообщение", "videresendt meddelelse", "videresendt melding", "přeposlaná zpráva",
)

#: Subject prefixes of a forwarded message (a header block with one of these is a forward, not a quote).
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|vl|vb|wg|tr|rv|enc|pd|i|doorst|fs|vs:\s*vl)\s*:", re.IGNORECASE)

#: Formal closings that begin a signature when they stand alone on a line (optionally with a name).
#: Thanks ("Kiitos", "Tack", "Thanks") are the customer's words and stay in the text.
CLOSINGS = (
    # Finnish
    "ystävällisin terveisin", "ystävällisesti", "parhain terveisin", "parhaat terveiset", "terveisin", "terv",
    "yst. terv", "t", "hyvää päivänjatkoa toivottaen", "kiittäen",
    # Swedish
    "med vänliga hälsningar", "med vänlig hälsning", "vänliga hälsningar", "vänlig hälsning", "bästa hälsningar",
    "hälsningar", "hälsning", "mvh", "vh", "vänligen",
    # English
    "best regards", "kind regards", "warm regards", "warmest regards", "regards", "best wishes", "yours sincerely",
    "sincerely", "sincerely yours", "yours truly", "yours faithfully", "cheers", "best", "all the best",
    "many thanks and best regards", "with kind regards", "with best regards", "br",
    # German, French, Spanish, Italian, Dutch, Portuguese, Polish, Russian, Danish/Norwegian
    "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "viele grüße", "beste grüße",
    "liebe grüße", "grüße", "mfg", "lg", "cordialement", "bien cordialement", "bien à vous", "salutations",
    "meilleures salutations", "saludos", "un saludo", "saludos cordiales", "atentamente", "cordiali saluti",
    "distinti saluti", "saluti", "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet",
    "groeten", "mvg", "atenciosamente", "cumprimentos", "pozdrawiam", "z poważaniem", "с уважением",
    "med venlig hilsen", "med vennlig hilsen", "venlig hilsen", "vennlig hilsen", "hilsen",
)

#: Footers a mail app adds ("Sent from my iPhone"), as the start of a short line.
MOBILE_FOOTER = re.compile(
    r"^(?:sent from my\b|sent from (?:outlook|mail|yahoo|gmail|samsung|my mobile)\b|sent with\b|sent via\b"
    r"|get outlook for\b|sent from \S+ for (?:ios|android|windows)\b"
    r"|lähetetty (?:iphonesta|ipadista|android|samsung|outlookista|mobiilista|puhelimesta|\S+-(?:laitteesta|puhelimesta|älypuhelimesta))"
    r"|lähetetty \S+(?: \S+){0,3} -?(?:laitteesta|puhelimesta|älypuhelimesta)\b|hanki outlook\b"
    r"|skickat från min\b|skickat från (?:outlook|e-post|mail)\b|skickades från\b|hämta outlook\b"
    r"|von meinem \S+ gesendet|gesendet von meinem\b|gesendet mit\b|envoyé de mon\b|envoyé depuis mon\b"
    r"|enviado desde mi\b|enviado do meu\b|enviado de meu\b|inviato da(?:l mio)?\b|verzonden (?:vanaf|met) mijn\b"
    r"|verstuurd vanaf mijn\b|wysłane z (?:mojego )?\S+|отправлено с\b|sendt fra min\b|odesláno z\b)",
    re.IGNORECASE,
)
