"""routing package of Lên Tiếng.

Pure modules (no database, no network, no clock reads; ``now`` is passed in):

- :mod:`routing.places`: provinces and communes of 2025 (``vietnam-provinces``), ``PlaceCode``
- :mod:`routing.folding`, :mod:`routing.search`: commune search without diacritics, with typos
- :mod:`routing.geo`: haversine, Vietnam's bounding boxes, ``GridIndex`` for nearest queries
- :mod:`routing.duty`: on-duty hours in Asia/Ho_Chi_Minh
- :mod:`routing.directory`: ``FocalPoint``, ``Shelter``, ``Directory``
- :mod:`routing.matching`: the focal point and shelter for a referral
- :mod:`routing.phone`, :mod:`routing.csv_import`: directory CSV files, validated
- :mod:`routing.data`: a fictitious Đắk Lắk sample directory
"""
