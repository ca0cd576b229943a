"""Who the resident is: the identity record and its search, the INS, phonetic keys, contacts."""
