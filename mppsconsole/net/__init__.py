"""DICOM networking over pynetdicom/pydicom: SCP handlers, server, conversions. No Qt."""
