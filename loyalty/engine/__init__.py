"""The flow that spans domains: evaluate the published programme for a member's event and book it."""
