#!/bin/sh
# Runs inside the booted image (telecart-boot-check.service); writes into the directory the test
# bound at /run/telecart-boot-check. Each file is one fact the test reads.
out=/run/telecart-boot-check
py=/opt/telecart/.venv/bin/python

systemctl show -p ActiveState -p SubState -p NRestarts -p ExecMainStartTimestampMonotonic \
    -p ActiveEnterTimestampMonotonic telecart.service > "$out/telecart.state"
systemctl show -p ActiveState -p ConditionResult telecart-kiosk.service > "$out/kiosk.state"
"$py" - > "$out/healthz" 2>&1 <<'PY'
import json, urllib.request
with urllib.request.urlopen("http://127.0.0.1:8080/healthz", timeout=10) as r:
    print(json.dumps({"status": r.status, "body": r.read(500).decode()}))
PY

# The CLI through the wrapper, as root: it must run as telecart and leave no root-owned file.
printf 'Un-mot-de-passe-assez-long-42\n' \
    | telecart users add technicien --role technician --password-stdin --name "Technicien" \
    > "$out/users-add.txt" 2>&1
echo "exit $?" >> "$out/users-add.txt"
telecart users list > "$out/users-list.txt" 2>&1
echo "exit $?" >> "$out/users-list.txt"
find /var/lib/telecart ! -user telecart > "$out/not-telecart.txt" 2>&1
# The key the wrapper opened lived only in its own mount namespace.
{ ls -A /run/telecart-cli-credentials; echo "nothing under /run/telecart-cli-credentials"; } > "$out/cli-key.txt" 2>&1
# As telecart, with the key sealed, the wrapper refuses rather than make a clear key.
setpriv --reuid=telecart --regid=telecart --init-groups telecart users list > "$out/as-telecart.txt" 2>&1
echo "exit $?" >> "$out/as-telecart.txt"

# The agent's key: sealed by telecart-key.service, loaded by the agent as a credential.
systemctl show -p ActiveState -p Result telecart-key.service > "$out/key.state"
stat -c '%U %G %a %n' /var/lib/telecart-credstore/telecart.key > "$out/credstore.txt" 2>&1
ls /var/lib/telecart/secret.key > "$out/clear-key.txt" 2>/dev/null
ls "/run/credentials/telecart.service" > "$out/agent-credential.txt" 2>&1
systemctl show -p ActiveState -p ConditionResult var-lib-telecart.mount > "$out/mount.state"
stat -c '%U %G %a %n' /var/lib/telecart > "$out/data-dir.txt"
id telecart > "$out/id-telecart.txt"

systemctl list-units --failed --plain --no-legend > "$out/failed.txt"
systemctl is-enabled systemd-networkd.service getty@tty1.service telecart.service > "$out/enabled.txt" 2>&1
locale > "$out/locale.txt" 2>&1
readlink /etc/localtime > "$out/localtime.txt"
systemctl show -p UserspaceTimestampMonotonic > "$out/manager.state"
journalctl -b --no-pager -o short-monotonic > "$out/journal.txt"
touch "$out/done"
