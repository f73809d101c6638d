"""FICTITIOUS sample directory for Đắk Lắk (package data: focal_points.csv, shelters.csv)."""
