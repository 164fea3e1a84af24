"""Use cases. Each owns its transaction: `async with uow:` ... `await uow.commit()` once.

Error messages of the memory model follow Honcho v1's wording, the surface it was modelled on.
"""
