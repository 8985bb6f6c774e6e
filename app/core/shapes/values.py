"""The scalar shapes the other shape modules share: an exact amount and a text's translations.

Pure, no imports: every module of app/core/shapes may import this one.
"""

Amount = int | str
"""An exact amount as the records write it (`budget.amount_to_json`): 12, "12.5" or "100/3"."""


Translations = dict[str, dict[str, str]]
"""Per language, per field, the text in that language (`{"cy": {"title": "..."}}`)."""
