"""cchc_excel: monthly reporting toolkit for administrative-procedure reform (cải cách TTHC)."""
