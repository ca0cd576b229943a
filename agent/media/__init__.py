"""The cart's media: cameras and microphone turned into tracks for the call, the kiosk's local
preview and snapshots. Capture runs in threads; the event loop only hands frames around."""
