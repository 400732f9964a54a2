"""The spam filter's arithmetic: a comment's tokens, and their score.

Pure functions, no database: `comments/spamfilter.py` keeps the counts and
calls these. The method is Gary Robinson's, as SpamBayes uses it: every
token's spam probability from how many trained spam and ham comments held
it, shrunk towards 0.5 while it has been seen rarely, and the strongest
clues combined with Fisher's chi-squared test into a score from 0 (ham) to
1 (spam). Unlike plain naive Bayes, which is sure of everything, the score
sits near 0.5 when the clues disagree or are few: that is "unsure", and an
unsure comment is held for a moderator.

A word and its character 4-grams say the same thing, and Fisher's method
takes its clues for independent witnesses: five 4-grams of "subscribers"
would outvote the rest of the comment. So each word gives one clue: the
word itself once it has been seen, else its strongest 4-gram (how a
misspelt or disguised word is still recognised).

A comment's tokens (each counted once per comment): its words and word
pairs, character 4-grams of its words (so "subscrībe", "subscribee" and
"subscribe" share clues), Chinese and Japanese as pairs of characters (no
spaces mark their words), the domains and top-level domains of its links
and how many it has, its shape (length, shouting, exclamation marks), and
the form's facts: how long the reader took to write it and the shape of
the name, email address and website given.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

# Robinson's constants: the weight of the prior (strength; SpamBayes uses
# 0.45, comments are shorter than mail and 1.0 measures better on them,
# bench/spam_filter.py) and the prior itself for a token never seen.
STRENGTH = 1.0
UNKNOWN = 0.5
# Only clues this far from 0.5 count, and only the strongest of them.
MINIMUM_DISTANCE = 0.1
MAX_CLUES = 150
# A comment gives at most this many distinct tokens (a 10,000-character
# comment must not cost a 10,000-row query).
MAX_TOKENS = 400

URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# "example . com" and "example dot com", written so that no link is made.
SPACED_DOMAIN = re.compile(
    r"\b([a-z0-9-]{2,})\s*(?:\.|\bdot\b)\s*(com|net|org|info|biz|ru|co|io|ly)\b",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    """Lower case, accents and wide forms dropped: "Subscríbe" reads as
    "subscribe"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# Words every comment has, whatever it is, in the languages Inkwell ships
# (English, German, Spanish, French, Arabic), folded as the text is. Spam is
# longer than ham, so until ham has been seen saying them they would all read
# as spam (measured: without them, ham sent to spam after 200 decisions fell
# from 1.6% to 0.3%, and from 18.8% to 7.5% in calendar order,
# bench/spam_filter.py); in pairs with another word they still count ("check
# out"). Words that are also ordinary English words ("die", "son", "man",
# "hat") are left out of the other languages' lists.
STOP_WORDS_BY_LANGUAGE = {
    "en": """a an the and or but to of in on at for from by with as is are was be
        been it its i i'm im you u he she we they me my your this that these
        those so just only not no do does did have has had will would can could
        there here what who which when where why how all any some than then too
        very also if about into out up""",
    "de": """der das den dem des ein eine einen einem einer und oder aber ist sind
        war nicht kein keine ich du er sie es wir ihr mein dein sein zu mit auf
        für von bei nach aus um im am sich auch noch nur schon sehr hier da dass
        wenn wie was ja nein""",
    "es": """el la los las lo un una unos unas de del al y o pero que en es son
        fue ha he hay por para con sin sobre no se su sus me mi mis te tu yo muy
        más ya este esta esto ese esa eso como porque también""",
    "fr": """le la les un une des du de et ou mais est sont été être avoir ai
        que qui quoi ne pas plus en dans pour par sur avec sans au aux ce cet
        cette ces je tu il elle on nous vous ils elles mon ma mes ton ta tes sa
        ses leur très tout tous où""",
    "ar": """في من على إلى عن أن إن هذا هذه ذلك تلك التي الذي ما لا لم لن هو هي
        كان كانت مع أو ثم قد كل بعد قبل عند أنا أنت نحن هم يا بل لكن إذا""",
}
STOP_WORDS = frozenset(
    fold(word) for words in STOP_WORDS_BY_LANGUAGE.values() for word in words.split()
)
# Chinese and Japanese are written without spaces between words: a run of
# their characters is read as its overlapping pairs ("背部痉挛" gives 背部 部痉
# 痉挛), as search engines read them, and a pair of two characters every
# sentence has (的, 是, 我...) is left out, as the stop words are.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{CJK}]+")
CJK_COMMON = frozenset("的了是在我你他她它这那和也就都不有一个们吗呢吧啊很与及或而")
# French and Italian elision: "l'article" is "article", "qu'il" is "il".
ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['’](?=[^\W_]{2})")
TAG = re.compile(r"<[^>]*>")
ENTITY = re.compile(r"&#?\w+;")
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
SHORTENERS = frozenset(
    {
        "bit.ly",
        "goo.gl",
        "tinyurl.com",
        "t.co",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "adf.ly",
        "linkbucks.com",
        "binbox.io",
        "shorte.st",
        "cutt.ly",
        "rebrand.ly",
        "tiny.cc",
    }
)


@dataclass(frozen=True)
class Facts:
    """What the filter looks at: the comment and the form it came in."""

    text: str
    name: str = ""
    email: str = ""
    url: str = ""
    seconds_to_post: float | None = None


@dataclass(frozen=True)
class Score:
    """A score from 0 (ham) to 1 (spam), with the clues that made it:
    (token, probability) pairs, strongest first."""

    value: float
    clues: tuple[tuple[str, float], ...]


def domain_of(address: str) -> str:
    if "://" not in address:
        address = f"http://{address}"
    try:
        host = urlsplit(address).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.").rstrip(".")


def bucket(value: float, edges: Iterable[float]) -> str:
    """The first edge `value` is under, as "<edge", or "≥last"."""
    last = 0.0
    for edge in edges:
        if value < edge:
            return f"<{edge:g}"
        last = edge
    return f"≥{last:g}"


def text_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    links = URL.findall(text)
    domains = [domain_of(link) for link in links]
    domains += [f"{name}.{tld}".lower() for name, tld in SPACED_DOMAIN.findall(text)]
    for domain in filter(None, domains):
        tokens.append(f"domain:{domain}")
        tokens.append(f"tld:{domain.rsplit('.', 1)[-1]}")
        if domain in SHORTENERS:
            tokens.append("link:shortener")
    tokens.append(f"links:{min(len(links), 3)}")
    if re.search(r"<a\s", text, re.IGNORECASE):
        tokens.append("html:link")

    plain = ENTITY.sub(" ", TAG.sub(" ", URL.sub(" ", text)))
    letters = [char for char in plain if char.isalpha()]
    upper = sum(char.isupper() for char in letters)
    if len(letters) >= 8:
        tokens.append(f"caps:{bucket(upper / len(letters), [0.1, 0.3, 0.6])}")
    tokens.append(f"length:{bucket(len(plain.strip()), [15, 40, 100, 250, 600])}")
    if "!!" in plain:
        tokens.append("shape:!!")

    folded = CJK_RUN.sub(lambda run: f" {run[0]} ", fold(plain))
    words = [ELISION.sub("", word) for word in WORD.findall(folded) if len(word) <= 30]
    tokens.extend(pair for word in words for pair in cjk_pairs(word))
    words = [word for word in words if not CJK_RUN.fullmatch(word)]
    tokens.extend(word for word in words if word not in STOP_WORDS)
    tokens.extend(
        f"{a} {b}"
        for a, b in itertools.pairwise(words)
        if a not in STOP_WORDS or b not in STOP_WORDS
    )
    for word in words:
        if word not in STOP_WORDS:
            tokens.extend(grams(word))
    return tokens


def cjk_pairs(word: str) -> list[str]:
    """A run of Chinese or Japanese characters as its overlapping pairs of
    characters (one character alone stands for itself), less the pairs of
    two characters every sentence has; [] for any other word."""
    if not CJK_RUN.fullmatch(word):
        return []
    if len(word) == 1:
        return [] if word in CJK_COMMON else [word]
    return [
        word[start : start + 2]
        for start in range(len(word) - 1)
        if not (word[start] in CJK_COMMON and word[start + 1] in CJK_COMMON)
    ]


def grams(word: str) -> list[str]:
    """The character 4-grams of a word longer than four letters, its start
    and end marked: "spam" has none, "spams" has ~^spa ~spam ~pams ~ams$."""
    if len(word) <= 4:
        return []
    padded = f"^{word}$"
    return [f"~{padded[start : start + 4]}" for start in range(len(padded) - 3)]


def is_word(token: str) -> bool:
    return not token.startswith("~") and " " not in token and ":" not in token


def form_tokens(facts: Facts) -> list[str]:
    tokens = []
    if facts.seconds_to_post is not None:
        edges = [5, 15, 45, 120, 600, 3600]
        tokens.append(f"time:{bucket(facts.seconds_to_post, edges)}s")
    name = facts.name.strip()
    if name:
        tokens.append(f"name:words:{min(len(name.split()), 4)}")
        if any(char.isdigit() for char in name):
            tokens.append("name:digits")
        if URL.search(name) or SPACED_DOMAIN.search(name):
            tokens.append("name:link")
        if name.isupper() and len(name) > 3:
            tokens.append("name:caps")
        tokens.extend(f"name:{word}" for word in WORD.findall(fold(name)))
    email = facts.email.strip().lower()
    if email:
        local, _, domain = email.rpartition("@")
        tokens.append(f"email:{domain}")
        if sum(char.isdigit() for char in local) >= 3:
            tokens.append("email:digits")
    if facts.url.strip():
        domain = domain_of(facts.url.strip())
        tokens.append(f"url:{domain}")
        tokens.append(f"url:tld:{domain.rsplit('.', 1)[-1]}")
    else:
        tokens.append("url:none")
    return tokens


def tokenize(facts: Facts) -> list[str]:
    """The comment's distinct tokens, in the order met, at most MAX_TOKENS
    (the form's facts and links first, so that a long text cannot push
    them out)."""
    seen = dict.fromkeys(form_tokens(facts) + text_tokens(facts.text))
    return [token[:100] for token in seen][:MAX_TOKENS]


def token_probability(spam: int, ham: int, spam_total: int, ham_total: int) -> float:
    """Robinson's f(w): how spammy a token is, from the share of trained
    spam and of trained ham comments that held it, shrunk towards UNKNOWN
    while it has been seen in few comments."""
    spam_ratio = spam / spam_total if spam_total else 0.0
    ham_ratio = ham / ham_total if ham_total else 0.0
    seen = spam + ham
    if spam_ratio + ham_ratio == 0:
        return UNKNOWN
    probability = spam_ratio / (spam_ratio + ham_ratio)
    return (STRENGTH * UNKNOWN + seen * probability) / (STRENGTH + seen)


def chi2_survival(chi2: float, degrees: int) -> float:
    """P(X > chi2) for a chi-squared distribution with an even number of
    degrees of freedom (the series SpamBayes uses)."""
    half = chi2 / 2.0
    term = total = math.exp(-half)
    for index in range(1, degrees // 2):
        term *= half / index
        total += term
    return min(total, 1.0)


def score(
    tokens: Iterable[str],
    counts: Mapping[str, tuple[int, int]],
    spam_total: int,
    ham_total: int,
) -> Score:
    """The comment's score from the trained counts: `counts` maps a token
    to (spam comments, ham comments) that held it; tokens missing from it
    were never seen."""

    def probability(token: str) -> float:
        spam, ham = counts.get(token, (0, 0))
        return token_probability(spam, ham, spam_total, ham_total)

    candidates: dict[str, float] = {}
    for token in dict.fromkeys(tokens):
        if token.startswith("~"):
            continue  # only through their word, below
        if is_word(token) and token not in counts and grams(token):
            gram = max(grams(token), key=lambda gram: abs(probability(gram) - 0.5))
            candidates[gram] = probability(gram)
        else:
            candidates[token] = probability(token)
    clues = [
        (token, chance)
        for token, chance in candidates.items()
        if abs(chance - 0.5) >= MINIMUM_DISTANCE
    ]
    clues.sort(key=lambda clue: (-abs(clue[1] - 0.5), clue[0]))
    clues = clues[:MAX_CLUES]
    if not clues:
        return Score(0.5, ())
    # Both tails of Fisher's method: how unlike ham, how unlike spam.
    ham_log = sum(math.log(probability) for _, probability in clues)
    spam_log = sum(math.log(1.0 - probability) for _, probability in clues)
    degrees = 2 * len(clues)
    spamminess = 1.0 - chi2_survival(-2.0 * spam_log, degrees)
    hamminess = 1.0 - chi2_survival(-2.0 * ham_log, degrees)
    value = (spamminess - hamminess + 1.0) / 2.0
    return Score(value, tuple((token, round(p, 3)) for token, p in clues))
