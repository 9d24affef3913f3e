"""Vietnamese text and numbers: cleaning, legacy-encoding repair, matching keys, formatting and parsing.

Pure core: standard library only, no I/O. User-facing strings (reasons, labels) are Vietnamese.

Legacy encodings
----------------
Before Unicode, Vietnamese offices typed with 8-bit fonts. When such text reaches an .xlsx it is stored
as the Windows-1252/Latin-1 characters of its bytes, e.g. "Sở Tư pháp" becomes

* TCVN3 (ABC, fonts .VnTime): ``"Së T\\xad ph¸p"`` -- one byte per precomposed lowercase letter;
  capitals with a tone only exist in the full TCVN 5712 (VN1) set or as base letter + tone byte 0xB0-0xB4;
* VNI-Windows: ``"Sôû Tö phaùp"`` -- base letter followed by a mark byte (ù sắc, ø huyền, û hỏi, õ ngã,
  ï nặng, â mũ, ê trăng, á/à/å/ã/ä mũ+dấu, é/è/ú/ü/ë trăng+dấu); ơ ư đ ĩ ị ỉ ỵ are single bytes.

`detect_legacy` only answers when the Unicode reading of the text is implausible and the legacy reading
yields valid Vietnamese syllables, because converting a correct name corrupts it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

__all__ = [
    "ParsedNumber",
    "ascii_fold",
    "ascii_key",
    "clean_multiline",
    "clean_text",
    "detect_legacy",
    "format_count",
    "format_number",
    "format_percent",
    "format_points",
    "format_short_date",
    "format_vn_date",
    "from_legacy",
    "match_key",
    "nfc",
    "parse_date",
    "parse_number",
    "parse_roman",
    "roman",
    "round_half_up",
    "slugify",
    "to_legacy",
]

TCVN3 = "TCVN3"
VNI = "VNI"

# --------------------------------------------------------------------------------------------
# Unicode basics
# --------------------------------------------------------------------------------------------

_GRAVE, _ACUTE, _TILDE, _HOOK, _DOT = "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"
_TONES = (_GRAVE, _ACUTE, _TILDE, _HOOK, _DOT)
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
# Invisible characters that sneak in from web pages and Word; removed after legacy detection
# (U+00AD is a TCVN3 letter, so it must survive until then).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def nfc(text: str) -> str:
    """Return `text` in Unicode NFC (precomposed) form."""
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------------------------
# Legacy tables
# --------------------------------------------------------------------------------------------

# TCVN3 (VN3 subset as used by .VnTime fonts): Latin-1 character of the byte -> Unicode.
_TCVN3_LEGACY = (
    "¡¢£¤¥¦§¨©ª«¬\xad®"
    "µ¶·¸¹" "»¼½¾Æ" "ÇÈÉÊË"
    "ÌÎÏÐÑ" "ÒÓÔÕÖ" "×ØÜÝÞ"
    "ßáâãä" "åæçèé" "êëìíî"
    "ïñòóô" "õö÷øù" "úûüýþ"
)
_TCVN3_UNICODE = (
    "ĂÂÊÔƠƯĐăâêôơưđ"
    "àảãáạ" "ằẳẵắặ" "ầẩẫấậ"
    "èẻẽéẹ" "ềểễếệ" "ìỉĩíị"
    "òỏõóọ" "ồổỗốộ" "ờởỡớợ"
    "ùủũúụ" "ừửữứự" "ỳỷỹýỵ"
)
# Full TCVN 5712 (VN1) puts some toned capitals in the gaps of the VN3 layout; decoded, never produced.
_TCVN3_VN1_LEGACY = "¯º¿ÀÁÂÃÄÅÍÙÚÛàðÿ"
_TCVN3_VN1_UNICODE = "ẰẲẴẮẦẨẪẤỀỂỄẾỒỔỖỐ"
# Separate tone bytes 0xB0-0xB4 (how VN3 writes a toned capital: base letter + tone byte).
_TCVN3_TONE_LEGACY = "°±²³´"
_TCVN3_TONE_UNICODE = (_GRAVE, _HOOK, _TILDE, _ACUTE, _DOT)

_TCVN3_DECODE: dict[str, str] = dict(zip(_TCVN3_LEGACY, _TCVN3_UNICODE, strict=True))
_TCVN3_DECODE.update(zip(_TCVN3_VN1_LEGACY, _TCVN3_VN1_UNICODE, strict=True))
_TCVN3_DECODE.update(zip(_TCVN3_TONE_LEGACY, _TCVN3_TONE_UNICODE, strict=True))
_TCVN3_ENCODE: dict[str, str] = dict(zip(_TCVN3_UNICODE, _TCVN3_LEGACY, strict=True))
_TCVN3_TONE_ENCODE: dict[str, str] = dict(zip(_TCVN3_TONE_UNICODE, _TCVN3_TONE_LEGACY, strict=True))

# VNI-Windows: single-byte letters (both directions).
_VNI_SINGLE: dict[str, str] = {
    "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư", "ñ": "đ", "Ñ": "Đ",
    "ó": "ĩ", "Ó": "Ĩ", "ò": "ị", "Ò": "Ị", "æ": "ỉ", "Æ": "Ỉ", "î": "ỵ", "Î": "Ỵ",
}
# VNI mark bytes (lowercase form; the uppercase byte means the same) -> combining sequence.
_VNI_MARKS: dict[str, str] = {
    "ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT,
    "â": _CIRCUMFLEX, "ê": _BREVE,
    "á": _CIRCUMFLEX + _ACUTE, "à": _CIRCUMFLEX + _GRAVE, "å": _CIRCUMFLEX + _HOOK,
    "ã": _CIRCUMFLEX + _TILDE, "ä": _CIRCUMFLEX + _DOT,
    "é": _BREVE + _ACUTE, "è": _BREVE + _GRAVE, "ú": _BREVE + _HOOK, "ü": _BREVE + _TILDE, "ë": _BREVE + _DOT,
}
_VNI_MARK_ENCODE: dict[str, str] = {v: k for k, v in _VNI_MARKS.items()}
# Which decoded base letters may carry which VNI marks.
_VNI_TONE_BASES = set("aeiouyơưAEIOUYƠƯ")
_VNI_HAT_BASES = set("aeoAEO")
_VNI_BREVE_BASES = set("aA")


def _tcvn3_decode(text: str) -> str:
    return nfc("".join(_TCVN3_DECODE.get(ch, ch) for ch in text))


def _vni_decode(text: str) -> str:
    out: list[str] = []
    for ch in text:
        prev = out[-1] if out else ""
        if ch in "îÎ" and prev in ("y", "Y"):
            out[-1] = "ỵ" if prev == "y" else "Ỵ"  # some VNI fonts write ỵ as y + î
            continue
        mark = _VNI_MARKS.get(ch.lower())
        if mark is not None:
            if mark.startswith(_BREVE):
                allowed = _VNI_BREVE_BASES
            elif mark.startswith(_CIRCUMFLEX):
                allowed = _VNI_HAT_BASES
            else:
                allowed = _VNI_TONE_BASES
            if prev in allowed:
                out.append(mark)
                continue
        out.append(_VNI_SINGLE.get(ch, ch))
    return nfc("".join(out))


def from_legacy(text: str, encoding: str) -> str:
    """Convert text typed in a legacy 8-bit encoding (read as Latin-1 characters) to NFC Unicode.

    `encoding` is "TCVN3" or "VNI" (case-insensitive; "ABC" and "VNI-WINDOWS" are accepted aliases).
    """
    enc = encoding.upper().replace("_", "-")
    if enc in ("TCVN3", "TCVN", "ABC", "TCVN-3"):
        return _tcvn3_decode(text)
    if enc in ("VNI", "VNI-WINDOWS", "VNI-WIN"):
        return _vni_decode(text)
    raise ValueError(f"Bảng mã không được hỗ trợ: {encoding!r} (chỉ hỗ trợ TCVN3 và VNI).")


def _split_letter(ch: str) -> tuple[str, str, str]:
    """Split a precomposed letter into (base with ă/â/ơ... modifiers, modifier marks, tone mark)."""
    decomposed = unicodedata.normalize("NFD", ch)
    tone = "".join(c for c in decomposed if c in _TONES)
    rest = "".join(c for c in decomposed if c not in _TONES)
    return rest[:1], rest[1:], tone


def to_legacy(text: str, encoding: str) -> str:
    """Inverse of `from_legacy`: encode Unicode Vietnamese as the Latin-1 characters of a legacy encoding.

    TCVN3 toned capitals are written as base capital + separate tone byte (the VN3 way), so the output
    round-trips through `from_legacy`. Used by tests and fixtures to produce realistic legacy input.
    """
    enc = encoding.upper()
    if enc in ("TCVN3", "TCVN", "ABC"):
        return "".join(_tcvn3_encode_char(ch) for ch in nfc(text))
    if enc in ("VNI", "VNI-WINDOWS", "VNI-WIN"):
        return "".join(_vni_encode_char(ch) for ch in nfc(text))
    raise ValueError(f"Bảng mã không được hỗ trợ: {encoding!r} (chỉ hỗ trợ TCVN3 và VNI).")


def _tcvn3_encode_char(ch: str) -> str:
    if ch in _TCVN3_ENCODE:
        return _TCVN3_ENCODE[ch]
    base, mods, tone = _split_letter(ch)
    if not tone:
        return ch
    toneless = nfc(base + mods)
    return _TCVN3_ENCODE.get(toneless, toneless) + _TCVN3_TONE_ENCODE[tone]


_VNI_SINGLE_ENCODE = {v: k for k, v in _VNI_SINGLE.items()}


def _vni_encode_char(ch: str) -> str:
    if ch in _VNI_SINGLE_ENCODE:
        return _VNI_SINGLE_ENCODE[ch]
    base, mods, tone = _split_letter(ch)
    if (not mods and not tone) or ch in "ìíÌÍ" or base.lower() not in "aeiouy":
        return ch  # ì and í are the same byte in VNI and Latin-1
    if mods == _HORN:
        letter, mark = ("ô" if base.lower() == "o" else "ö"), tone
    else:
        letter, mark = base.lower(), mods + tone
    code = _VNI_MARK_ENCODE.get(mark, "") if mark else ""
    if base.isupper():
        return letter.upper() + code.upper()
    return letter + code


# --------------------------------------------------------------------------------------------
# Vietnamese syllable check (used to judge whether a reading of the text is plausible)
# --------------------------------------------------------------------------------------------

_ONSETS = sorted(
    ["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh",
     "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
     # onsets of ethnic-minority place names common in registries (Krông, Bla, Đrăng...)
     "kr", "kl", "bl", "br", "dr", "đr", "pl", "gl", "hr"],
    key=len, reverse=True,
)
_CODAS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t", "k")
_STOP_CODAS = {"c", "ch", "p", "t", "k"}
_OPEN_NUCLEI = {
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua", "ui", "ưa", "ưi",
    "ưu", "iêu", "yêu", "oai", "oao", "oay", "oeo", "uây", "uôi", "ươi", "ươu", "uyu", "uya", "uơ",
}
_ANY_NUCLEI = {"a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "oa", "oe", "uê", "uy"}
_CLOSED_NUCLEI = {"ă", "â", "iê", "yê", "uô", "ươ", "oă", "uâ", "uyê", "oo"}
_PALATAL_NUCLEI = {"a", "ê", "i", "oa", "uê", "uy"}  # only these take -ch / -nh (anh, ếch, huynh)
_RHYMES: frozenset[str] = frozenset(
    _OPEN_NUCLEI | _ANY_NUCLEI
    | {n + c for n in _ANY_NUCLEI | _CLOSED_NUCLEI for c in _CODAS if c and c not in ("ch", "nh")}
    | {n + c for n in _PALATAL_NUCLEI for c in ("ch", "nh")}
)
_SYLLABLE_LETTERS = set("abcdđeghiklmnopqrstuvxyăâêôơư")


# Both are asked about the same few thousand syllables over and over (every unit name of a registry, every
# cell text checked for a legacy encoding): remembered, a 4,000-unit registry parses about twice as fast.
@lru_cache(maxsize=16384)
def _strip_tones(word: str) -> tuple[str, tuple[str, ...]]:
    decomposed = unicodedata.normalize("NFD", word)
    tones = tuple(c for c in decomposed if c in _TONES)
    return nfc("".join(c for c in decomposed if c not in _TONES)), tones


@lru_cache(maxsize=16384)
def _is_syllable(word: str) -> bool:
    """True when `word` spells one Vietnamese syllable (tone-placement agnostic) in lower, Title or UPPER
    case; mixed case such as "TặNH" is what a wrong legacy reading produces."""
    if not word.isalpha() or word not in (word.lower(), word.upper(), word[:1].upper() + word[1:].lower()):
        return False
    base, tones = _strip_tones(word.lower())
    if len(tones) > 1 or not base or any(ch not in _SYLLABLE_LETTERS for ch in base):
        return False
    for onset in _ONSETS:
        if not base.startswith(onset):
            continue
        rhyme = base[len(onset):]
        if onset == "gi" and rhyme == "":
            return True  # gì, gỉ
        if rhyme not in _RHYMES:
            continue
        if onset == "qu" and rhyme[0] in "ouư":  # quốc, quở exist; quo-, quu- do not
            continue
        coda = next((c for c in ("ch", "c", "p", "t", "k") if rhyme.endswith(c)), "")
        if coda in _STOP_CODAS and tones and tones[0] not in (_ACUTE, _DOT):
            continue
        return True
    return False


# Every reading is judged on the same tokens: split only at spaces, digits and ASCII punctuation, so a
# Latin-1 symbol inside a word ("Ph\xadêng", "Th¸p") stays inside it instead of leaving innocent pieces.
_RAW_WORD = re.compile(r"[^\s\d!-/:-@\[-`{-~]+")
_ASCII_LETTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TCVN3_CHARS = _ASCII_LETTERS | set(_TCVN3_DECODE)
_VNI_MARK_CHARS = set(_VNI_MARKS) | {k.upper() for k in _VNI_MARKS}
_VNI_CHARS = _ASCII_LETTERS | set(_VNI_SINGLE) | _VNI_MARK_CHARS | set("ìíÌÍ")


def _tcvn3_word(token: str) -> str | None:
    return _tcvn3_decode(token) if set(token) <= _TCVN3_CHARS else None


def _vni_word(token: str) -> str | None:
    if not set(token) <= _VNI_CHARS:
        return None
    decoded = _vni_decode(token)
    # A mark byte with no base to sit on survives decoding as itself: not a VNI word then.
    return None if to_legacy(decoded, VNI).lower() != token.lower() else decoded


def _neutral(token: str) -> bool:
    """ASCII tokens that say nothing about the encoding: acronyms (UBND) and vowel-less abbreviations."""
    return token.isascii() and ((len(token) > 1 and token.isupper()) or not set(token.lower()) & set("aeiouy"))


def _legacy_share(tokens: list[str], decode: Callable[[str], str | None]) -> float | None:
    """Share of words that are Vietnamese syllables under a legacy reading, or None when that reading
    is not credible: a word carrying non-ASCII bytes fails, none of them has an ASCII letter, or they
    add up to fewer than 4 characters."""
    valid = total = evidence = 0
    with_letter = False
    for token in tokens:
        decoded = decode(token)
        ok = decoded is not None and _is_syllable(decoded)
        if decoded is not None and not ok and len(decoded) > 1 and decoded.isupper() and decoded.isalpha():
            continue  # acronym with legacy bytes: QĐ, HĐND
        if not token.isascii():
            if not ok:
                return None
            with_letter = with_letter or bool(set(token) & _ASCII_LETTERS)
            evidence += len(token)
        total += 1
        valid += ok
    # A lone short token ("µm", "Dü") is too thin to overrule the text as typed.
    return valid / total if with_letter and evidence >= 4 else None


def detect_legacy(text: str) -> str | None:
    """Return "TCVN3" or "VNI" when `text` looks like legacy-encoded Vietnamese read as Latin-1, else None.

    Conservative on purpose. None when: any letter lies outside Latin-1 (ơ, ư, đ, ạ..., combining
    marks: the text is already Unicode); every non-ASCII word already reads as Vietnamese (Cà Mau,
    Tây Ninh); some non-ASCII word is not a syllable in the legacy reading (Café, Noël); the legacy
    reading is not clearly better than the Unicode one; or TCVN3 and VNI tie.
    """
    if not text or text.isascii():
        return None
    for ch in text:
        if ord(ch) > 0xFF and unicodedata.category(ch)[0] in "LM":
            return None
    tokens = [t for t in _RAW_WORD.findall(text) if not _neutral(t)]
    unicode_ok = [_is_syllable(t) for t in tokens]
    if all(ok for t, ok in zip(tokens, unicode_ok, strict=True) if not t.isascii()):
        return None
    unicode_share = sum(unicode_ok) / len(tokens)
    shares = {}
    for name, decode in ((TCVN3, _tcvn3_word), (VNI, _vni_word)):
        share = _legacy_share(tokens, decode)
        if share is not None and share >= 0.75 and share > unicode_share:
            shares[name] = share
    if len(shares) == 2 and shares[TCVN3] == shares[VNI]:
        return None  # both readings equally good: leave the text alone
    return max(shares, key=shares.__getitem__) if shares else None


# --------------------------------------------------------------------------------------------
# Cleaning and keys
# --------------------------------------------------------------------------------------------


def _finish(text: str) -> str:
    return nfc(text.translate(_INVISIBLE))


def clean_text(text: str) -> tuple[str, str | None]:
    """Single-line value: strip, collapse every whitespace run (NBSP, tabs, newlines) to one space,
    convert TCVN3/VNI when detected, NFC. Returns (clean text, detected legacy encoding or None)."""
    if text is None:
        return "", None
    collapsed = " ".join(str(text).split())
    encoding = detect_legacy(collapsed)
    if encoding is not None:
        collapsed = from_legacy(collapsed, encoding)
    return " ".join(_finish(collapsed).split()), encoding


def clean_multiline(text: str) -> tuple[str, str | None]:
    """Like `clean_text` but keeps line breaks: \\r\\n and \\r become \\n, each line is stripped and its
    whitespace runs collapsed, leading and trailing empty lines are dropped."""
    if text is None:
        return "", None
    lines = [" ".join(line.split()) for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    encoding = detect_legacy(" ".join(lines))
    if encoding is not None:
        lines = [from_legacy(line, encoding) for line in lines]
    lines = [" ".join(_finish(line).split()) for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines), encoding


_HYPHEN_RUN = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2212]\s*")
_WORD = re.compile(r"\w+")


def _tone_last(match: re.Match[str]) -> str:
    # One spelling per syllable whatever the tone placement style (hoà/hòa, thuỷ/thủy): tone goes last.
    base, tones = _strip_tones(match.group(0))
    return base + tones[0] if len(tones) == 1 else match.group(0)


def match_key(text: str) -> str:
    """Opaque key for matching names however they were typed.

    Equal for: case ("TƯ PHÁP"), NFC/NFD, TCVN3/VNI legacy forms, Đ/đ (and the look-alike Ð),
    spacing around hyphens and dashes ("Phan Rang - Tháp Chàm"), old/new tone placement ("hoà"/"hòa").
    Diacritics are otherwise kept: "Sở Tư pháp" and "So Tu Phap" differ (see `ascii_key`).
    """
    clean, _ = clean_text(text)
    key = clean.casefold().replace("ð", "đ")
    key = _HYPHEN_RUN.sub("-", key)
    return _WORD.sub(_tone_last, key)


def ascii_fold(text: str) -> str:
    """Remove diacritics: "Đường Hòa" -> "Duong Hoa"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D").replace("Ð", "D"))
    return nfc("".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def ascii_key(text: str) -> str:
    """Diacritic-blind matching key: "Sở Tư pháp" == "SO TU PHAP" == "so tu phap"."""
    clean, _ = clean_text(text)
    key = ascii_fold(clean).casefold()
    return " ".join(_HYPHEN_RUN.sub("-", key).split())


_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def slugify(text: str, max_len: int = 60) -> str:
    """ASCII lowercase slug safe as part of a Windows file name: "Sở Tư pháp" -> "so-tu-phap"."""
    if max_len < 1:
        raise ValueError("max_len phải lớn hơn 0.")
    clean, _ = clean_text(text)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_fold(clean).lower()).strip("-")
    slug = slug[:max_len].rstrip("-") or "x"
    if slug in _WINDOWS_RESERVED:
        slug += "-x"  # CON, NUL, COM1... cannot be file names on Windows, even with an extension
    return slug


# --------------------------------------------------------------------------------------------
# Number formatting (decimal comma, thousands dot)
# --------------------------------------------------------------------------------------------


def _to_decimal(x: object) -> Decimal | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        d = x if isinstance(x, Decimal) else Decimal(str(x))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _quantize(d: Decimal, decimals: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    return ".".join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])


def format_number(x: int | float | Decimal | None, decimals: int = 2) -> str:
    """Vietnamese style: 1234.5 -> "1.234,50"; ROUND_HALF_UP on the decimal value (70.285 -> "70,29").
    None (or a non-finite value) -> ""."""
    d = _to_decimal(x)
    if d is None:
        return ""
    q = _quantize(d, decimals)
    sign = "-" if q < 0 else ""  # a value rounding to zero prints without a sign
    int_part, _, frac = f"{abs(q):.{decimals}f}".partition(".")
    return sign + _group(int_part) + ("," + frac if decimals > 0 else "")


def format_count(n: int | float | None) -> str:
    """Whole number with thousands dots: 1023738 -> "1.023.738"; None -> ""."""
    return format_number(n, 0)


def format_percent(x: int | float | None, decimals: int = 2) -> str:
    """`x` already in percent units: 27.7419 -> "27,74%"; None -> ""."""
    text = format_number(x, decimals)
    return text + "%" if text else ""


def format_points(delta: int | float | None, decimals: int = 2) -> str:
    """Change in percentage points: 2.1 -> "tăng 2,10 điểm phần trăm"; 0 -> "không thay đổi"."""
    d = _to_decimal(delta)
    if d is None:
        return ""
    q = _quantize(d, decimals)
    if q == 0:
        return "không thay đổi"
    word = "tăng" if q > 0 else "giảm"
    return f"{word} {format_number(abs(q), decimals)} điểm phần trăm"


def round_half_up(x: float, decimals: int = 2) -> float:
    """Round the decimal value of `x` half away from zero: 0.125 -> 0.13 (float round() gives 0.12)."""
    d = _to_decimal(x)
    if d is None:
        raise ValueError(f"Không làm tròn được giá trị {x!r}.")
    return float(_quantize(d, decimals))


# --------------------------------------------------------------------------------------------
# Number parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedNumber:
    """Result of `parse_number`: `value` None means blank (reason None) or not a number (reason set)."""

    value: float | None
    converted: bool
    reason: str | None
    percent: bool = False


_NUMBER_SHAPE = re.compile(r"([+-]?)\s*(\d[\d., ]*)\s*(%?)")
_NOT_A_NUMBER = "không phải là số"


def _thousands_ok(groups: list[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and not (groups[0].startswith("0") and len(groups) > 1) \
        and all(len(g) == 3 for g in groups[1:])


def _parse_body(body: str, percent: bool) -> tuple[Decimal | None, str | None]:
    """Digits and separators (no sign, no %) -> (value, None) or (None, reason)."""
    if body[-1] in ".,":
        return None, f"thừa dấu phân cách ở cuối: '{body}'"
    if " " in body:
        int_part, sep, frac = re.match(r"([\d ]+)([.,]?)(.*)", body).groups()  # type: ignore[union-attr]
        if not _thousands_ok(int_part.split(" ")) or (sep and not frac.isdigit()):
            return None, f"dấu cách ở vị trí không hợp lệ: '{body}'"
        return Decimal(int_part.replace(" ", "") + ("." + frac if sep else "")), None
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal_sep = "," if body.rfind(",") > body.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        int_part, _, frac = body.rpartition(decimal_sep)
        if decimal_sep in int_part or not _thousands_ok(int_part.split(group_sep)):
            return None, f"dấu phân cách ở vị trí không hợp lệ: '{body}'"
        return Decimal(int_part.replace(group_sep, "") + "." + frac), None
    if not dots and not commas:
        return Decimal(body), None
    sep = "." if dots else ","
    groups = body.split(sep)
    if len(groups) > 2:
        if _thousands_ok(groups):
            return Decimal("".join(groups)), None
        return None, f"dấu '{sep}' ở vị trí không hợp lệ: '{body}'"
    a, b = groups
    looks_grouped = _thousands_ok(groups) and len(b) == 3
    if percent:
        return Decimal(f"{a}.{b}"), None  # percentages never need thousands separators
    if sep == ".":
        if looks_grouped:
            return Decimal(a + b), None  # Vietnamese thousands dot
        if a == "0" or len(a) > 3:
            return Decimal(f"{a}.{b}"), None  # cannot be grouping: a decimal point
        return None, (f"không rõ dấu phân cách: '{body}' -- dấu chấm là dấu phân cách hàng nghìn; "
                      f"nếu là số thập phân hãy ghi {a},{b}")
    if looks_grouped:
        return None, f"không rõ dấu phân cách: '{body}' có thể là {a}{b} hoặc {a},{b}"
    return Decimal(f"{a}.{b}"), None


def parse_number(raw: object) -> ParsedNumber:
    """Read a number the way clerks type it in Vietnamese workbooks.

    Native int/float/Decimal pass through (converted=False); bool and NaN/inf are not numbers;
    None, "" and whitespace are blank (value None, reason None). Text is NFKC-normalised (full-width
    digits, NBSP), U+2212 counts as a minus sign, and every text input is flagged converted=True.

    ====================  ==========  =====================================================
    typed                 value       rule
    ====================  ==========  =====================================================
    "1234", " 1234 "      1234        digits only
    "+7", "-5", "−5"      7, -5, -5   one leading sign
    "1.234", "1.234.567"  1234, ...   dot + groups of exactly 3 digits = thousands (VN)
    "1 234", "1\\xa0234"   1234        space + groups of 3 = thousands; then "," or "." decimal
    "12,5", "0,125"       12.5, ...   one comma not followed by exactly 3 digits = decimal
    "1.234,5"             1234.5      both kinds: the last one is the decimal sign (VN)
    "1,234.5"             1234.5      ... (US style)
    "1,234,567"           1234567     several commas in groups of 3 = thousands (US)
    "0.5", "1234.5"       0.5, ...    one dot that cannot be grouping (int part 0 or > 3 digits)
    "12,5%", "12.5%"      12.5 (%)    with %: a single separator is always the decimal sign
    "1,234"               refused     1234 or 1,234?
    "1.23", "12.5"        refused     dot is the VN thousands sign; decimal must use a comma
    "1.234.5", "12 34"    refused     broken grouping
    "(5)", "5 hồ sơ", "-" refused     parentheses, words, lone dash
    ====================  ==========  =====================================================

    Consistent with the formatters: parse_number(format_count(n)).value == n and
    parse_number(format_number(x)).value == round_half_up(x, 2) (2 decimals; with 3 decimals
    "1,234" would be ambiguous).
    """
    if raw is None:
        return ParsedNumber(None, False, None)
    if type(raw) is float:   # the common case (every number a workbook holds): no round trip through Decimal
        return ParsedNumber(raw, False, None) if math.isfinite(raw) else ParsedNumber(None, False, _NOT_A_NUMBER)
    if isinstance(raw, bool):
        return ParsedNumber(None, False, "giá trị đúng/sai, không phải là số")
    if isinstance(raw, int | float | Decimal):
        d = _to_decimal(raw)
        if d is None:
            return ParsedNumber(None, False, _NOT_A_NUMBER)
        return ParsedNumber(float(raw), False, None)
    if not isinstance(raw, str):
        return ParsedNumber(None, False, _NOT_A_NUMBER)
    text = unicodedata.normalize("NFKC", raw).replace("\u2212", "-").strip()
    text = text.translate(_INVISIBLE)
    if not text:
        return ParsedNumber(None, False, None)
    if text.startswith("(") and text.endswith(")"):
        return ParsedNumber(None, True, f"số trong ngoặc đơn không rõ là số âm hay ghi chú: '{text}'")
    if text in ("-", "--", "—", "–"):
        return ParsedNumber(None, True, "dấu gạch ngang không phải là số (nếu là không thì ghi 0)")
    m = _NUMBER_SHAPE.fullmatch(text)
    if m is None:
        if any(ch.isdigit() for ch in text) and any(ch.isalpha() for ch in text):
            return ParsedNumber(None, True, f"có chữ kèm theo số: '{text}' (chỉ ghi con số)")
        return ParsedNumber(None, True, _NOT_A_NUMBER)
    sign, body, pct = m.groups()
    body = body.strip()
    value, reason = _parse_body(body, bool(pct))
    if value is None:
        return ParsedNumber(None, True, reason, bool(pct))
    result = float(-value if sign == "-" else value) or 0.0  # no "-0.0"
    return ParsedNumber(result, True, None, bool(pct))


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def format_vn_date(d: date, *, leading_zero: bool = True) -> str:
    """Date line of an administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I):
    days below 10 and months 1, 2 take a leading zero -> "ngày 05 tháng 01 năm 2020"."""
    if leading_zero:
        day = f"{d.day:02d}"
        month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    else:
        day, month = str(d.day), str(d.month)
    return f"ngày {day} tháng {month} năm {d.year}"


def format_short_date(d: date) -> str:
    """dd/mm/yyyy: date(2025, 3, 5) -> "05/03/2025"."""
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


_EXCEL_EPOCH = date(1899, 12, 30)
_DMY = re.compile(r"(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{4})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_WORDY = re.compile(r"(?:ngày\s+)?(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(raw: object) -> date | None:
    """Read a date: date/datetime objects, Excel serial numbers (1900 system), or day-first text
    ("05/03/2025", "5/3/2025", "05-03-2025", "05.03.2025", "2025-03-05", "ngày 5 tháng 3 năm 2025").
    Returns None when it is not a date."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int | float):
        if not 1 <= raw < 80000:
            return None
        serial = int(raw)
        if serial == 60:
            return None  # 29/02/1900 exists only in Excel (Lotus 1-2-3 leap-year bug)
        # Serials below 60 predate the phantom day, so they sit one day later on the real calendar.
        return _EXCEL_EPOCH + timedelta(days=serial + (1 if serial < 60 else 0))
    if not isinstance(raw, str):
        return None
    text = " ".join(unicodedata.normalize("NFKC", raw).split()).casefold()
    if m := _DMY.fullmatch(text):
        return _safe_date(int(m.group(4)), int(m.group(3)), int(m.group(1)))
    if m := _YMD.fullmatch(text):
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _WORDY.fullmatch(nfc(text)):
        return _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    return None


# --------------------------------------------------------------------------------------------
# Roman numerals (quarters, section numbers)
# --------------------------------------------------------------------------------------------

_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
_ROMAN_VALUE = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman(n: int) -> str:
    """1 -> "I", 3 -> "III", 14 -> "XIV" (1..3999)."""
    if not 1 <= n <= 3999:
        raise ValueError(f"Không viết được số La Mã cho {n} (chỉ từ 1 đến 3999).")
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def parse_roman(s: str) -> int | None:
    """"III" -> 3, "iv" -> 4; None unless `s` is a canonical Roman numeral."""
    text = s.strip().upper() if isinstance(s, str) else ""
    if not text or any(ch not in _ROMAN_VALUE for ch in text):
        return None
    total = 0
    for i, ch in enumerate(text):
        value = _ROMAN_VALUE[ch]
        nxt = _ROMAN_VALUE[text[i + 1]] if i + 1 < len(text) else 0
        total += -value if value < nxt else value
    # Reject non-canonical spellings such as "IIII" or "IC".
    return total if 1 <= total <= 3999 and roman(total) == text else None
