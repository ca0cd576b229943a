"""Printing at the cart: a dossier's PDF (a prescription, a document) or its report, sent to the
EHPAD's printer through CUPS for the pharmacy or the resident's file.

- `states.py`: what CUPS says of a job and of its printer, in the nurse's words (pure).
- `cups_client.py`: the few CUPS calls the cart makes, through pycups (libcups); blocking, so
  only ever run in the print service's own threads; CUPS's failures as French refusals.
- `sources.py`: the PDFs the cart holds that may be printed (store functions), and the audit.
- `service.py`: `PrintService`, what the routes use: print, follow a job until it is done (its
  outcome audited), cancel, list the printers, choose the printer.
"""
