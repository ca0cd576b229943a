"""The practice mode (« Entraînement »): a nurse learns the whole path on the cart itself, with
demo residents and a simulated specialist, and nothing of it reaches anyone.

It is a second agent beside the real one (agent/app.py's `PracticeAgent`): its own database and
blobs in `<data dir>/practice/`, seeded with the demo, served on loopback only as
http://practice.localhost:PORT (another host than the kiosk's, so its cookies and stored drafts
are its own); the cart's cameras, microphone and sensors borrowed from the real agent; every
message "sent" by a sender that sends nothing; no sync, no printing. `mode.Practice` starts it when
a nurse asks, lets her in with a one-time code, and erases the whole directory when she leaves
(or at the next start, after a power cut). `specialist.SimulatedSpecialist` plays the invited
doctor in the call: a picture, a voice, the chat, a prescription after a minute.
"""
