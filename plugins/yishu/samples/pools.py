"""Small pools of Faker-drawn names, streets and company names, drawn once per seed."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from faker import Faker


@lru_cache(maxsize=8)
def _pools(seed: int) -> dict[str, np.ndarray]:
    """Small Faker-drawn pools; rows pick from them (Faker manages only ~20k names/s)."""
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return {
        # zh_CN's name_male()/name_female() are not gendered; its first-name lists are.
        "male": np.array([fake.last_name() + fake.first_name_male() for _ in range(1500)]),
        "female": np.array([fake.last_name() + fake.first_name_female() for _ in range(1500)]),
        "street": np.array([fake.street_name() for _ in range(600)]),
        "company": np.array(sorted({"深圳市" + fake.company() for _ in range(4000)})),
    }
