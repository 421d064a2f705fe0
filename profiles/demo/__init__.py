"""Luma, the demo world: a deterministic simulation of a sports-apparel brand's customers.

``catalogue`` holds the fixed world (products, campaigns, stores, tiers); ``simulate`` turns a seed and
a person index into that person's latent traits, behaviour (Segment spec messages) and hidden ground
truth; ``seed`` streams people in chunks through the ingestion and processing services.
"""
