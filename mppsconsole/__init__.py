"""MPPS Console: a DICOM Scheduled Workflow console (RIS/PACS simulator and modality)."""

__version__ = "0.1.0"
