"""BERT's text preparation, as Hugging Face `tokenizers` does it: BertNormalizer, then
BertPreTokenizer. Pure Python (the standard library only), so it runs unchanged in Pyodide.

The normalizer, in this order (each step optional, as in a tokenizer.json):
1. clean_text: drop NUL, U+FFFD and control characters (Unicode's "other" categories but tab,
   newline and carriage return), and write every whitespace character as a space.
2. handle_chinese_chars: put a space on each side of a CJK ideograph, so each is a word.
3. strip_accents (when None, it follows lowercase): decompose (NFD) and drop the nonspacing marks,
   "é" -> "e".
4. lowercase: each character's full lower-case mapping ("İ" -> "i̇").
The pre-tokenizer then splits at whitespace (dropped) and around each punctuation character (kept,
one word each).

Every normalized character remembers the index of the character of the text it comes from, so a
token maps back to its (start, end) span of the text, as `tokenizers` reports offsets.

Which characters are controls, whitespace, punctuation and nonspacing marks is `tokenizers`' idea,
not Python's: it reads Unicode 9.0 categories (crate unicode_categories), Rust's whitespace, and
Unicode 16.0 case mappings; the tables below were read from `tokenizers` 0.23.3 one code point at
a time, and tests/test_wordpiece.py checks every code point against the installed `tokenizers`
(update the tables if it fails). Which characters it decomposes and which marks it reorders are
tables too; only their decompositions and combining classes come from Python's unicodedata, and
those never change once assigned, so Python 3.11 and Pyodide's 3.13 give the same result.
"""

from __future__ import annotations

import bisect
import dataclasses
import unicodedata
from collections.abc import Mapping

__all__ = ["BertTextOptions", "bert_words", "normalize", "pre_tokenize"]

# Entries of the character class cache (see _Classes)
_CACHE_SIZE = 50_000


@dataclasses.dataclass(frozen=True)
class BertTextOptions:
    """BertNormalizer's switches (strip_accents None: strip when lower-casing, as BERT does)."""

    clean_text: bool = True
    handle_chinese_chars: bool = True
    strip_accents: bool | None = None
    lowercase: bool = True

    @property
    def strips_accents(self) -> bool:
        return self.lowercase if self.strip_accents is None else self.strip_accents


Word = tuple[str, list[int]]  # normalized characters; for each, its character index in the text
Chars = list[tuple[str, int]]  # (normalized character, index of the character it comes from)

# What a character is to the steps below (flags; tables at the end of the module)
CLEANED_AWAY, WHITESPACE, PUNCTUATION, CHINESE, NONSPACING_MARK, DECOMPOSED, COMBINING = (
    1,
    2,
    4,
    8,
    16,
    32,
    64,
)


def bert_words(text: str, options: BertTextOptions) -> list[Word]:
    """The words BERT's pre-tokenizer makes of `text` after its normalizer, in order, each with the
    index in `text` of the character each of its characters comes from."""
    return pre_tokenize(normalize(text, options))


def normalize(text: str, options: BertTextOptions) -> Chars:
    """BertNormalizer: the normalized characters of `text`, each with its origin in `text`."""
    chars = [(ch, i) for i, ch in enumerate(text)]
    if options.clean_text:
        chars = _clean(chars)
    if options.handle_chinese_chars:
        chars = _space_chinese(chars)
    if options.strips_accents:
        chars = _strip_accents(chars)
    if options.lowercase:
        chars = [(low, i) for ch, i in chars for low in _LOWER.get(ord(ch)) or ch.lower()]
    return chars


def _clean(chars: Chars) -> Chars:
    """Controls dropped (0b, 0c and 85 too, which Rust calls whitespace), whitespace as " "."""
    return [
        (" " if _FLAGS[ch] & WHITESPACE else ch, i)
        for ch, i in chars
        if not _FLAGS[ch] & CLEANED_AWAY
    ]


def _space_chinese(chars: Chars) -> Chars:
    return [(c, i) for ch, i in chars for c in ((" ", ch, " ") if _FLAGS[ch] & CHINESE else (ch,))]


def _strip_accents(chars: Chars) -> Chars:
    """NFD, then the nonspacing marks dropped."""
    return [(c, i) for c, i in _nfd(chars) if not _FLAGS[c] & NONSPACING_MARK]


def _nfd(chars: Chars) -> Chars:
    """Canonical decomposition as `tokenizers` makes it (an older Unicode's than Python's): each
    character it decomposes into Python's decomposition, then every run of combining marks in
    the order of their combining classes. The characters keep the origins of the positions
    they are moved to, as in `tokenizers`."""
    out = [
        (d, i)
        for ch, i in chars
        for d in (unicodedata.normalize("NFD", ch) if _FLAGS[ch] & DECOMPOSED else ch)
    ]
    classes = [unicodedata.combining(c) if _FLAGS[c] & COMBINING else 0 for c, _ in out]
    k = 0
    while k < len(out):
        end = k
        while end < len(out) and classes[end]:
            end += 1
        if end - k > 1:  # a stable sort keeps marks of one class in their order
            run = sorted(range(k, end), key=classes.__getitem__)
            out[k:end] = [(out[j][0], out[k + n][1]) for n, j in enumerate(run)]
        k = end + 1
    return out


def pre_tokenize(chars: Chars) -> list[Word]:
    """BertPreTokenizer: words between whitespace, each punctuation character a word."""
    words: list[Word] = []
    start = 0
    for k, (ch, i) in enumerate([*chars, (" ", -1)]):
        flags = _FLAGS[ch]
        if flags & (WHITESPACE | PUNCTUATION):
            if k > start:
                word = chars[start:k]
                words.append(("".join(c for c, _ in word), [j for _, j in word]))
            if flags & PUNCTUATION:
                words.append((ch, [i]))
            start = k + 1
    return words


class _Flags(dict):
    """Character -> its flags, filled on first sight (up to _CACHE_SIZE entries): most texts use
    few distinct characters."""

    def __init__(self, tables: Mapping[int, str]) -> None:
        """tables: flag -> its code points ("first-last" hex items), merged into segments of the
        code points where the flags change: self._starts[k] .. the next start has self._flags[k]."""
        super().__init__()
        events: dict[int, int] = {}  # code point -> flags that start (+) and end (-) there
        for flag, table in tables.items():
            for first, _, last in (item.partition("-") for item in table.split()):
                start, stop = int(first, 16), int(last or first, 16) + 1
                events[start] = events.get(start, 0) + flag
                events[stop] = events.get(stop, 0) - flag
        self._starts, self._flags, flags = [0], [0], 0
        for code in sorted(events):
            flags += events[code]  # the ranges of one table never overlap: a flag is 0 or 1
            self._starts.append(code)
            self._flags.append(flags)

    def __missing__(self, ch: str) -> int:
        flags = self._flags[bisect.bisect_right(self._starts, ord(ch)) - 1]
        if len(self) < _CACHE_SIZE:
            self[ch] = flags
        return flags


def _case_table(table: str) -> dict[int, str]:
    """ "first[-last]:lower" items (hex): first..last map to lower.. in step."""
    mapping = {}
    for item in table.split():
        span, _, lower = item.partition(":")
        first, _, last = span.partition("-")
        for code in range(int(first, 16), int(last or first, 16) + 1):
            mapping[code] = chr(int(lower, 16) + code - int(first, 16))
    return mapping


# Code points (hex, "first-last") by what `tokenizers` 0.23.3 does with them.
# Cleaned away by clean_text: NUL, U+FFFD and Unicode 9.0's Cc, Cf, Co (not unassigned ones)
_CLEANED_AWAY = """
0-8 b-c e-1f 7f-9f ad 600-605 61c 6dd 70f 180e 200b-200f 202a-202e 2060-2064 2066-206f e000-f8ff
feff fff9-fffb fffd 110bd 1bca0-1bca3 1d173-1d17a e0001 e0020-e007f f0000-ffffd 100000-10fffd
"""
# Rust's char::is_whitespace (and so tab, newline, carriage return): the pre-tokenizer splits there
_WHITESPACE = "9-d 20 85 a0 1680 2000-200a 2028-2029 202f 205f 3000"
# ASCII punctuation and Unicode 9.0's P* categories
_PUNCTUATION = """
21-2f 3a-40 5b-60 7b-7e a1 a7 ab b6-b7 bb bf 37e 387 55a-55f 589-58a 5be 5c0 5c3 5c6 5f3-5f4
609-60a 60c-60d 61b 61e-61f 66a-66d 6d4 700-70d 7f7-7f9 830-83e 85e 964-965 970 af0 df4 e4f e5a-e5b
f04-f12 f14 f3a-f3d f85 fd0-fd4 fd9-fda 104a-104f 10fb 1360-1368 1400 166d-166e 169b-169c 16eb-16ed
1735-1736 17d4-17d6 17d8-17da 1800-180a 1944-1945 1a1e-1a1f 1aa0-1aa6 1aa8-1aad 1b5a-1b60 1bfc-1bff
1c3b-1c3f 1c7e-1c7f 1cc0-1cc7 1cd3 2010-2027 2030-2043 2045-2051 2053-205e 207d-207e 208d-208e
2308-230b 2329-232a 2768-2775 27c5-27c6 27e6-27ef 2983-2998 29d8-29db 29fc-29fd 2cf9-2cfc 2cfe-2cff
2d70 2e00-2e2e 2e30-2e42 3001-3003 3008-3011 3014-301f 3030 303d 30a0 30fb a4fe-a4ff a60d-a60f a673
a67e a6f2-a6f7 a874-a877 a8ce-a8cf a8f8-a8fa a8fc a92e-a92f a95f a9c1-a9cd a9de-a9df aa5c-aa5f
aade-aadf aaf0-aaf1 abeb fd3e-fd3f fe10-fe19 fe30-fe52 fe54-fe61 fe63 fe68 fe6a-fe6b ff01-ff03
ff05-ff0a ff0c-ff0f ff1a-ff1b ff1f-ff20 ff3b-ff3d ff3f ff5b ff5d ff5f-ff65 10100-10102 1039f 103d0
1056f 10857 1091f 1093f 10a50-10a58 10a7f 10af0-10af6 10b39-10b3f 10b99-10b9c 11047-1104d
110bb-110bc 110be-110c1 11140-11143 11174-11175 111c5-111c9 111cd 111db 111dd-111df 11238-1123d
112a9 114c6 115c1-115d7 11641-11643 1173c-1173e 12470-12474 16a6e-16a6f 16af5 16b37-16b3b 16b44
1bc9f 1da87-1da8b
"""
# Unicode 9.0's Mn: what strip_accents drops after NFD
_NONSPACING_MARKS = """
300-36f 483-487 591-5bd 5bf 5c1-5c2 5c4-5c5 5c7 610-61a 64b-65f 670 6d6-6dc 6df-6e4 6e7-6e8 6ea-6ed
711 730-74a 7a6-7b0 7eb-7f3 816-819 81b-823 825-827 829-82d 859-85b 8e3-902 93a 93c 941-948 94d
951-957 962-963 981 9bc 9c1-9c4 9cd 9e2-9e3 a01-a02 a3c a41-a42 a47-a48 a4b-a4d a51 a70-a71 a75
a81-a82 abc ac1-ac5 ac7-ac8 acd ae2-ae3 b01 b3c b3f b41-b44 b4d b56 b62-b63 b82 bc0 bcd c00 c3e-c40
c46-c48 c4a-c4d c55-c56 c62-c63 c81 cbc cbf cc6 ccc-ccd ce2-ce3 d01 d41-d44 d4d d62-d63 dca dd2-dd4
dd6 e31 e34-e3a e47-e4e eb1 eb4-eb9 ebb-ebc ec8-ecd f18-f19 f35 f37 f39 f71-f7e f80-f84 f86-f87
f8d-f97 f99-fbc fc6 102d-1030 1032-1037 1039-103a 103d-103e 1058-1059 105e-1060 1071-1074 1082
1085-1086 108d 109d 135d-135f 1712-1714 1732-1734 1752-1753 1772-1773 17b4-17b5 17b7-17bd 17c6
17c9-17d3 17dd 180b-180d 18a9 1920-1922 1927-1928 1932 1939-193b 1a17-1a18 1a1b 1a56 1a58-1a5e 1a60
1a62 1a65-1a6c 1a73-1a7c 1a7f 1ab0-1abd 1b00-1b03 1b34 1b36-1b3a 1b3c 1b42 1b6b-1b73 1b80-1b81
1ba2-1ba5 1ba8-1ba9 1bab-1bad 1be6 1be8-1be9 1bed 1bef-1bf1 1c2c-1c33 1c36-1c37 1cd0-1cd2 1cd4-1ce0
1ce2-1ce8 1ced 1cf4 1cf8-1cf9 1dc0-1df5 1dfc-1dff 20d0-20dc 20e1 20e5-20f0 2cef-2cf1 2d7f 2de0-2dff
302a-302d 3099-309a a66f a674-a67d a69e-a69f a6f0-a6f1 a802 a806 a80b a825-a826 a8c4 a8e0-a8f1
a926-a92d a947-a951 a980-a982 a9b3 a9b6-a9b9 a9bc a9e5 aa29-aa2e aa31-aa32 aa35-aa36 aa43 aa4c aa7c
aab0 aab2-aab4 aab7-aab8 aabe-aabf aac1 aaec-aaed aaf6 abe5 abe8 abed fb1e fe00-fe0f fe20-fe2f
101fd 102e0 10376-1037a 10a01-10a03 10a05-10a06 10a0c-10a0f 10a38-10a3a 10a3f 10ae5-10ae6 11001
11038-11046 1107f-11081 110b3-110b6 110b9-110ba 11100-11102 11127-1112b 1112d-11134 11173
11180-11181 111b6-111be 111ca-111cc 1122f-11231 11234 11236-11237 112df 112e3-112ea 11300-11301
1133c 11340 11366-1136c 11370-11374 114b3-114b8 114ba 114bf-114c0 114c2-114c3 115b2-115b5
115bc-115bd 115bf-115c0 115dc-115dd 11633-1163a 1163d 1163f-11640 116ab 116ad 116b0-116b5 116b7
1171d-1171f 11722-11725 11727-1172b 16af0-16af4 16b30-16b36 16f8f-16f92 1bc9d-1bc9e 1d167-1d169
1d17b-1d182 1d185-1d18b 1d1aa-1d1ad 1d242-1d244 1da00-1da36 1da3b-1da6c 1da75 1da84 1da9b-1da9f
1daa1-1daaf 1e8d0-1e8d6 e0100-e01ef
"""
# The CJK ideographs handle_chinese_chars puts spaces around (BERT's blocks)
_CHINESE = (
    "4e00-9fff 3400-4dbf 20000-2a6df 2a700-2b73f 2b740-2b81f 2b920-2ceaf f900-faff 2f800-2fa1f"
)
# Unicode 16.0 case mappings Python 3.11's str.lower lacks ("first[-last]:lower", in step)
_LOWER = _case_table(
    "1c89:1c8a a7cb:264 a7cc:a7cd a7ce:a7cf a7d2:a7d3 a7d4:a7d5 a7da:a7db a7dc:19b "
    "10d50-10d65:10d70 16ea0-16eb8:16ebb"
)
# What `tokenizers`' NFD decomposes (Python's unicodedata has the same decompositions for them,
# and more: U+11938 of Unicode 13.0) and the combining marks it orders (of a nonzero combining
# class, which Python's unicodedata gives: a class never changes once assigned)
_DECOMPOSED = """
c0-c5 c7-cf d1-d6 d9-dd e0-e5 e7-ef f1-f6 f9-fd ff-10f 112-125 128-130 134-137 139-13e 143-148
14c-151 154-165 168-17e 1a0-1a1 1af-1b0 1cd-1dc 1de-1e3 1e6-1f0 1f4-1f5 1f8-21b 21e-21f 226-233
340-341 343-344 374 37e 385-38a 38c 38e-390 3aa-3b0 3ca-3ce 3d3-3d4 400-401 403 407 40c-40e 419 439
450-451 453 457 45c-45e 476-477 4c1-4c2 4d0-4d3 4d6-4d7 4da-4df 4e2-4e7 4ea-4f5 4f8-4f9 622-626 6c0
6c2 6d3 929 931 934 958-95f 9cb-9cc 9dc-9dd 9df a33 a36 a59-a5b a5e b48 b4b-b4c b5c-b5d b94 bca-bcc
c48 cc0 cc7-cc8 cca-ccb d4a-d4c dda ddc-dde f43 f4d f52 f57 f5c f69 f73 f75-f76 f78 f81 f93 f9d fa2
fa7 fac fb9 1026 1b06 1b08 1b0a 1b0c 1b0e 1b12 1b3b 1b3d 1b40-1b41 1b43 1e00-1e99 1e9b 1ea0-1ef9
1f00-1f15 1f18-1f1d 1f20-1f45 1f48-1f4d 1f50-1f57 1f59 1f5b 1f5d 1f5f-1f7d 1f80-1fb4 1fb6-1fbc 1fbe
1fc1-1fc4 1fc6-1fd3 1fd6-1fdb 1fdd-1fef 1ff2-1ff4 1ff6-1ffd 2000-2001 2126 212a-212b 219a-219b 21ae
21cd-21cf 2204 2209 220c 2224 2226 2241 2244 2247 2249 2260 2262 226d-2271 2274-2275 2278-2279
2280-2281 2284-2285 2288-2289 22ac-22af 22e0-22e3 22ea-22ed 2329-232a 2adc 304c 304e 3050 3052 3054
3056 3058 305a 305c 305e 3060 3062 3065 3067 3069 3070-3071 3073-3074 3076-3077 3079-307a 307c-307d
3094 309e 30ac 30ae 30b0 30b2 30b4 30b6 30b8 30ba 30bc 30be 30c0 30c2 30c5 30c7 30c9 30d0-30d1
30d3-30d4 30d6-30d7 30d9-30da 30dc-30dd 30f4 30f7-30fa 30fe f900-fa0d fa10 fa12 fa15-fa1e fa20 fa22
fa25-fa26 fa2a-fa6d fa70-fad9 fb1d fb1f fb2a-fb36 fb38-fb3c fb3e fb40-fb41 fb43-fb44 fb46-fb4e
1109a 1109c 110ab 1112e-1112f 1134b-1134c 114bb-114bc 114be 115ba-115bb 1d15e-1d164 1d1bb-1d1c0
2f800-2fa1d
ac00-d7a3
"""
_COMBINING = """
300-34e 350-36f 483-487 591-5bd 5bf 5c1-5c2 5c4-5c5 5c7 610-61a 64b-65f 670 6d6-6dc 6df-6e4 6e7-6e8
6ea-6ed 711 730-74a 7eb-7f3 816-819 81b-823 825-827 829-82d 859-85b 8d4-8e1 8e3-8ff 93c 94d 951-954
9bc 9cd a3c a4d abc acd b3c b4d bcd c4d c55-c56 cbc ccd d4d dca e38-e3a e48-e4b eb8-eb9 ec8-ecb
f18-f19 f35 f37 f39 f71-f72 f74 f7a-f7d f80 f82-f84 f86-f87 fc6 1037 1039-103a 108d 135d-135f 1714
1734 17d2 17dd 18a9 1939-193b 1a17-1a18 1a60 1a75-1a7c 1a7f 1ab0-1abd 1b34 1b44 1b6b-1b73 1baa-1bab
1be6 1bf2-1bf3 1c37 1cd0-1cd2 1cd4-1ce0 1ce2-1ce8 1ced 1cf4 1cf8-1cf9 1dc0-1df5 1dfb-1dff 20d0-20dc
20e1 20e5-20f0 2cef-2cf1 2d7f 2de0-2dff 302a-302f 3099-309a a66f a674-a67d a69e-a69f a6f0-a6f1 a806
a8c4 a8e0-a8f1 a92b-a92d a953 a9b3 a9c0 aab0 aab2-aab4 aab7-aab8 aabe-aabf aac1 aaf6 abed fb1e
fe20-fe2f 101fd 102e0 10376-1037a 10a0d 10a0f 10a38-10a3a 10a3f 10ae5-10ae6 11046 1107f 110b9-110ba
11100-11102 11133-11134 11173 111c0 111ca 11235-11236 112e9-112ea 1133c 1134d 11366-1136c
11370-11374 11442 11446 114c2-114c3 115bf-115c0 1163f 116b6-116b7 1172b 11c3f 16af0-16af4
16b30-16b36 1bc9e 1d165-1d169 1d16d-1d172 1d17b-1d182 1d185-1d18b 1d1aa-1d1ad 1d242-1d244
1e000-1e006 1e008-1e018 1e01b-1e021 1e023-1e024 1e026-1e02a 1e8d0-1e8d6 1e944-1e94a
"""

_FLAGS = _Flags(
    {
        CLEANED_AWAY: _CLEANED_AWAY,
        WHITESPACE: _WHITESPACE,
        PUNCTUATION: _PUNCTUATION,
        CHINESE: _CHINESE,
        NONSPACING_MARK: _NONSPACING_MARKS,
        DECOMPOSED: _DECOMPOSED,
        COMBINING: _COMBINING,
    }
)
