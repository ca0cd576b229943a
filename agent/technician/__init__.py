"""The technician's side of the cart: the page on the EHPAD's network that installs and fixes the
cart without a screen of its own (kiosk_ui/static/technician/, agent/api/routes/technician.py), how
it is found (discovery.py: zeroconf) and opened the first time (first_boot.py), what it shows
(diagnostics.py) and the support bundle it hands over (support_bundle.py). Nothing here reads
health data."""
