-- The family of a canonical model id, for chargeback: the first rule of warehouse/model_families.csv (in file
-- order) whose pattern occurs in the id, its family's \1 filled from the match; 'other' when no rule matches.
create or replace temp macro model_family(model_id) as coalesce(
    (
        select arg_min(regexp_replace(regexp_extract(model_id, pattern, 0), pattern, family), rule)
        from src_model_families
        where regexp_matches(model_id, pattern)
    ),
    'other'
);
