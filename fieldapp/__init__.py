"""The crews' phone web app at /crew/: its shell, service worker and the endpoints the crew
API lacked (duty, device history, spare parts, customer sign-off)."""
