"""The operations users call: encrypt, decrypt, edit, verify, updatekeys, rotate, rekey."""
