"""Words of a text for the lexical scorers, on any script.

A word is a run of Unicode letters and digits (so "Gebühr", "été" and "Köln" stay whole), after
NFKC normalisation (full-width letters and digits read as ASCII) and case folding ("Straße" matches
"STRASSE"). Chinese and Japanese put no spaces between words, so every Han, Hiragana and
Katakana character is a token of its own, the character-level convention CJK evaluations use;
Hangul is written with spaces and is tokenised into words.

On ASCII text these are exactly the tokens of rouge-score (lower-cased runs of [a-z0-9]);
`rouge_score_tokens` reproduces rouge-score on any text, for parity with published numbers.
"""

from __future__ import annotations

import re
import unicodedata

# Han (with extensions and compatibility ideographs), Hiragana and Katakana.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")
_CJK_CHAR = re.compile(rf"([{_CJK}])")
_ROUGE_SCORE = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Unicode words of `text`, case-folded; CJK characters one by one."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def split_cjk(text: str) -> str:
    """`text` with a space around every CJK character, so a whitespace split separates them."""
    if _CJK_CHAR.search(text) is None:  # most text: a search is 6x cheaper than a substitution
        return text
    return _CJK_CHAR.sub(r" \1 ", text)


def rouge_score_tokens(text: str) -> list[str]:
    """rouge-score's tokenizer (no stemming): lower case, then runs of ASCII letters and digits;
    every other character separates tokens, so "Über" becomes "ber" and CJK text has none."""
    return _ROUGE_SCORE.findall(text.lower())
