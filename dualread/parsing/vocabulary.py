"""The words statements print, in English, German, French, Dutch, Russian, Spanish and Italian,
that both the embedded engine and consensus need: month names, balance and carried-forward
lines, debit/credit markers and local currency abbreviations.

Only words live here; :mod:`dualread.parsing.amounts`, :mod:`~dualread.parsing.dates` and
:mod:`~dualread.parsing.text` decide what they mean.
"""

from __future__ import annotations

# Markers that say which way money moved. CR/H(aben) credit the account, DR/S(oll) debit it.
DEBIT_MARKERS = frozenset({"DR", "D", "S", "SOLL", "DEBIT", "DB"})
CREDIT_MARKERS = frozenset({"CR", "C", "H", "HABEN", "CREDIT", "KT"})
# Local currency abbreviations that are not ISO codes or Unicode currency symbols.
CURRENCY_WORDS = frozenset(
    {"РУБ", "Р", "ZŁ", "ZL", "KR", "FR", "SFR", "KČ", "FT", "LEI", "TL", "GRN", "ГРН"}
)

# Full month names (and the genitive forms Russian dates use), by month number. A printed
# month token matches a month when it is a prefix (3+ letters) of one of its names and of no
# other month's: "okt", "janv", "févr", "марта", "mei", "Dez" all resolve; "jui" does not.
MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: (
        "january",
        "januar",
        "janvier",
        "januari",
        "janeiro",
        "enero",
        "gennaio",
        "январь",
        "января",
        "jänner",
    ),
    2: ("february", "februar", "fevrier", "februari", "febrero", "febbraio", "февраль", "февраля"),
    3: ("march", "marz", "maerz", "mars", "maart", "marzo", "март", "марта"),
    4: ("april", "avril", "abril", "aprile", "апрель", "апреля"),
    5: ("may", "mai", "mei", "mayo", "maggio", "май", "мая"),
    6: ("june", "juni", "juin", "junio", "giugno", "июнь", "июня"),
    7: ("july", "juli", "juillet", "julio", "luglio", "июль", "июля"),
    8: ("august", "aout", "augustus", "agosto", "август", "августа"),
    9: ("september", "septembre", "septiembre", "settembre", "сентябрь", "сентября"),
    10: ("october", "oktober", "octobre", "octubre", "ottobre", "октябрь", "октября"),
    11: ("november", "novembre", "noviembre", "ноябрь", "ноября"),
    12: ("december", "dezember", "decembre", "diciembre", "dicembre", "декабрь", "декабря"),
}

# Balance lines that readers often emit as rows. "Strong" phrases mark a balance line even with
# a few more words after them ("Balance brought forward from page 1"); "weak" ones are also
# ordinary words ("Übertrag auf Sparkonto" is a real transfer), so only filler may follow them.
CARRIED_STRONG = (
    "balance brought forward",
    "brought forward",
    "balance carried forward",
    "carried forward",
    "balance forward",
    "opening balance",
    "closing balance",
    "previous balance",
    "saldo vorher",
    "saldo vortrag",
    "saldovortrag",
    "alter saldo",
    "neuer saldo",
    "anfangssaldo",
    "endsaldo",
    "solde reporte",
    "solde precedent",
    "ancien solde",
    "nouveau solde",
    "report a nouveau",
    "saldo vorige",
    "saldo van vorige pagina",
    "saldo naar volgende pagina",
    "a reporter",
    "vorig saldo",
    "nieuw saldo",
    "beginsaldo",
    "eindsaldo",
    "saldo anterior",
    "saldo precedente",
    "saldo iniziale",
    "saldo finale",
    "входящий остаток",
    "исходящий остаток",
    "остаток на начало",
    "остаток на конец",
)
CARRIED_WEAK = ("ubertrag", "uebertrag", "vortrag", "report", "перенос", "b/f", "c/f")
# Words that may follow a weak phrase on a balance line ("Übertrag von Seite 1").
CARRIED_FILLER = (
    "a",
    "au",
    "aus",
    "auf",
    "de",
    "der",
    "des",
    "du",
    "from",
    "la",
    "le",
    "nouveau",
    "page",
    "pagina",
    "previous",
    "seite",
    "van",
    "vom",
    "von",
    "vorige",
    "vorherige",
    "vorheriger",
    "blad",
    "с",
    "со",
    "страницы",
    "страницу",
    "следующую",
    "предыдущей",
    "на",
)
