"""Code the job board's services share: settings, the web shell, storage, events, tagging."""
