"""Pure mask-editing algorithms for the review page's tools: cleanup, keep/remove refine, edge matting.

Masks are uint8 numpy arrays (0 background, 255 subject, values between for soft edges), the
image an RGB uint8 array of the same height and width. Nothing here knows orders, Flask or storage.
"""
