//! Gupy's `page` / `perPage` query and list envelope.

use serde::Deserialize;

use super::wire::ListEnvelope;

use super::error::SimError;

/// The *assumed* largest page; larger requests are clamped to it.
pub const MAX_PER_PAGE: u64 = 100;
const DEFAULT_PER_PAGE: u64 = 10;

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

/// Cuts one page out of `items` (already filtered and ordered).
pub fn paginate<T>(items: Vec<T>, query: PageQuery) -> Result<ListEnvelope<T>, SimError> {
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE).min(MAX_PER_PAGE);
    if page == 0 || per_page == 0 {
        return Err(SimError::BadRequest("page and perPage start at 1".into()));
    }
    let total_results = items.len() as u64;
    let total_pages = total_results.div_ceil(per_page);
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    Ok(ListEnvelope {
        results: items.into_iter().skip(skip).take(take).collect(),
        total_results,
        page,
        total_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_cut_and_counted() -> Result<(), SimError> {
        let list = paginate(
            (1..=25).collect(),
            PageQuery {
                page: Some(3),
                per_page: Some(10),
            },
        )?;
        assert_eq!(list.results, vec![21, 22, 23, 24, 25]);
        assert_eq!(
            (list.total_results, list.page, list.total_pages),
            (25, 3, 3)
        );
        Ok(())
    }

    #[test]
    fn per_page_is_clamped_and_page_zero_refused() {
        let list = paginate(
            (0..300).collect::<Vec<u32>>(),
            PageQuery {
                page: None,
                per_page: Some(500),
            },
        );
        assert_eq!(list.map(|l| l.results.len()).ok(), Some(100));
        assert!(
            paginate(
                vec![1],
                PageQuery {
                    page: Some(0),
                    per_page: None
                }
            )
            .is_err()
        );
    }
}
