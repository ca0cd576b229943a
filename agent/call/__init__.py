"""The teleconsultation call: a room per invitation window, signalled over WebSockets, with the
cart's cameras sent by aiortc and the participants' browsers in a full mesh (docs/architecture.md,
"The call")."""
