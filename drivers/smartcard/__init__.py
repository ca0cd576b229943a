"""The card reader and the CPS card (the French health professional's card).

`readers` watches the PC/SC readers and their cards through pcscd (pyscard's low-level
SCardGetStatusChange, in a thread); `atr` tells a CPS from any other card by its answer to reset;
`token` reaches the card's key and certificates through the card's PKCS#11 module, as the ANS
requires for CPS3/CPS4 (its "Cryptolib CPS"); `certificate` reads the practitioner's identity
from the authentication certificate and checks its chain. No I/O in `atr` and `certificate`.
"""
