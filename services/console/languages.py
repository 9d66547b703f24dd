"""Language names for the codes rosters give (`en;es`), in English, for pages members read.

Rosters carry ISO 639-1 codes (CONTRACT §5's examples: `en`, `es`) or the name itself; a code
not in this table is shown as the roster has it, so nothing the coordinator wrote is lost.
"""

from __future__ import annotations

NAMES = {
    "am": "Amharic",
    "ar": "Arabic",
    "ase": "American Sign Language",
    "asl": "American Sign Language",
    "bn": "Bengali",
    "bs": "Bosnian",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "hmn": "Hmong",
    "hr": "Croatian",
    "ht": "Haitian Creole",
    "hu": "Hungarian",
    "it": "Italian",
    "ja": "Japanese",
    "km": "Khmer",
    "ko": "Korean",
    "lo": "Lao",
    "my": "Burmese",
    "ne": "Nepali",
    "nl": "Dutch",
    "pa": "Punjabi",
    "pl": "Polish",
    "ps": "Pashto",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sm": "Samoan",
    "so": "Somali",
    "sq": "Albanian",
    "sr": "Serbian",
    "sw": "Swahili",
    "ta": "Tamil",
    "te": "Telugu",
    "th": "Thai",
    "ti": "Tigrinya",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "yo": "Yoruba",
    "zh": "Chinese",
}


def language_name(given: str) -> str:
    """`es` → `Spanish`, `pt-BR` → `Portuguese (pt-BR)`; anything else as the roster has it."""
    code = given.strip()
    base, _, region = code.partition("-")
    name = NAMES.get(base.lower())
    if name is None:
        return code
    return f"{name} ({code})" if region else name
