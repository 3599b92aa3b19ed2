"""Pure rules, in the words of DESIGN.md: the report form (``form``), the case workflow
(``workflow``), tier policy (``tiers``), who may do what (``access``) and case references
(``references``). No database, no Telegram: plain values in, plain values out."""
