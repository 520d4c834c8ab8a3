"""Our own number formats for a language, where Django's do not suit (FORMAT_MODULE_PATH)."""
