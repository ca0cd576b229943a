#!/bin/sh
# Runs inside the booted image with the kiosk on a headless output (test_boot.py): what the
# kiosk, Chromium and the kiosk session's PipeWire look like once Chromium had time to load.
out=/run/telecart-boot-check
sleep 15
systemctl show -p ActiveState -p SubState -p NRestarts telecart-kiosk.service > "$out/kiosk.state"
ps -u kiosk -o args= > "$out/kiosk-ps.txt" 2>&1
ss -tnp state established > "$out/ss.txt" 2>&1
ls -ln /run/telecart-sound > "$out/sound-dir.txt" 2>&1
# The microphone as the agent reaches it: as telecart, in telecart-sound, through its socket.
setpriv --reuid=telecart --regid=telecart --groups=telecart-sound --inh-caps=-all \
    env HOME=/var/lib/telecart PULSE_SERVER=unix:/run/telecart-sound/pulse pactl info > "$out/pactl-info.txt" 2>&1
# And as another user, who must not reach it.
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
    env HOME=/ PULSE_SERVER=unix:/run/telecart-sound/pulse pactl info > "$out/pactl-nobody.txt" 2>&1
journalctl -b --no-pager -o short-monotonic > "$out/journal.txt"
touch "$out/done"
