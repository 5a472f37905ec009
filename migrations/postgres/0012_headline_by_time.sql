-- Rule 4 looks for a stored headline within 72 hours of an item: with the
-- rows of a key ordered by time, the lookup reads only that window instead
-- of every row of the key (a publisher that reuses one title made each new
-- item's lookup longer than the last). A headline's time is its mention's,
-- which never changes.
ALTER TABLE headline
    DROP CONSTRAINT headline_pkey,
    ADD PRIMARY KEY (topic_id, key, at, mention_id);
