"""Patient fees: the region's tariffs with the dates they take effect (OG-2-d)."""
