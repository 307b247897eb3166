-- The keyed pseudonym of a value that names a person (an email matched lower-cased), else the value itself.
create or replace temp macro pseudonym(v) as coalesce(
    (select pseudonyms.pseudonym from pseudonyms where pseudonyms.value = if(contains(v, '@'), lower(v), v)),
    v
);
