"""What the user writes: the suite config, the eval set, the prompt, and their schemas."""
