//! An in-memory index of `gold.fact_achats` for the `/achats` listing and a client's recent
//! purchases. DataFusion answers those pages by scanning and sorting every purchase (about
//! 100 ms at SF 1); the index answers them with a binary search and a short walk.
//!
//! A version of Gold never changes, so the index is built once per served version: the table is
//! read whole into one record batch, then the positions of its rows are sorted by
//! `(date_achat, id_achat)` and by `(montant, id_achat)`, and listed per client, country and
//! product (each list in `(date_achat, id_achat)` order). Memory: the table itself plus 4 bytes
//! per row and per list (about 100 MB at SF 1).
//!
//! Only the queries the API sends are answered here ([`PurchaseIndex::page`] says `None` for
//! anything else, and the store falls back to DataFusion): equality on `id_client`, `pays`,
//! `produit`; a `date_achat` range; an order on `date_achat` or `montant` then `id_achat`, both
//! in one direction; a keyset cursor on that order; an offset and a limit. Rows whose sort keys
//! are NULL would need SQL's NULL ordering: a table with any is not indexed at all.

use std::collections::HashMap;

use datafusion::arrow::array::{
    Array, AsArray, Decimal128Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
    UInt32Array,
};
use datafusion::arrow::compute::{cast, concat_batches, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};
use datafusion::error::DataFusionError;

use super::{After, Op, Order, TableQuery, Value};

/// The table this index serves.
pub const TABLE: &str = "fact_achats";

/// A candidate list this short is filtered and sorted on the spot; a longer one is walked in
/// the global order of the sort key instead.
const SORT_ON_THE_SPOT: usize = 4096;

/// The two orders a listing can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Date,
    Amount,
}

/// Positions of rows, as `u32` (a table past 4 billion rows is not indexed).
type Positions = Vec<u32>;

/// A text column as codes: row → code, code → its rows in `(date_achat, id_achat)` order.
#[derive(Default)]
struct Codes {
    code_of: HashMap<String, u32>,
    /// The code of each row (`NULL_CODE` for NULL).
    row_codes: Vec<u32>,
    lists: Vec<Positions>,
}

const NULL_CODE: u32 = u32::MAX;

pub struct PurchaseIndex {
    batch: RecordBatch,
    ids: Vec<i64>,
    /// `date_achat` in microseconds since the epoch.
    dates: Vec<i64>,
    /// `montant` in cents.
    amounts: Vec<i128>,
    clients: Vec<Option<i64>>,
    by_date: Positions,
    by_amount: Positions,
    by_client: HashMap<i64, Positions>,
    countries: Codes,
    products: Codes,
}

/// The index's reading of a [`TableQuery`].
#[derive(Debug, Default)]
struct Plan {
    client: Option<i64>,
    country: Option<String>,
    product: Option<String>,
    /// `date_achat >= from` and `date_achat < to`, in microseconds.
    from: Option<i64>,
    to: Option<i64>,
    key: Option<SortKey>,
    descending: bool,
    /// Rows strictly after `(key value, id_achat)` in the order.
    after: Option<(i128, i64)>,
    offset: usize,
    limit: Option<usize>,
}

/// A plan's equality filters as the index's codes.
struct Equalities {
    client: Option<i64>,
    country: Option<u32>,
    product: Option<u32>,
}

impl PurchaseIndex {
    /// Indexes the batches of `fact_achats` (all of them, in any order). `Ok(None)` when the
    /// table does not have the shape the index needs (types, no NULL sort keys).
    pub fn build(batches: &[RecordBatch]) -> Result<Option<Self>, DataFusionError> {
        let Some(first) = batches.first() else {
            return Ok(None);
        };
        let batch = concat_batches(&first.schema(), batches)?;
        let Ok(rows) = u32::try_from(batch.num_rows()) else {
            return Ok(None);
        };
        let column = |name: &str| batch.column_by_name(name);
        let (Some(ids), Some(dates), Some(amounts), Some(clients), Some(countries), Some(products)) = (
            column("id_achat"),
            column("date_achat"),
            column("montant"),
            column("id_client"),
            column("pays"),
            column("produit"),
        ) else {
            return Ok(None);
        };
        let (Some(ids), Some(dates), Some(amounts)) = (
            ids.as_any().downcast_ref::<Int64Array>(),
            dates.as_any().downcast_ref::<TimestampMicrosecondArray>(),
            amounts.as_any().downcast_ref::<Decimal128Array>(),
        ) else {
            return Ok(None);
        };
        let cents = matches!(amounts.data_type(), DataType::Decimal128(_, 2));
        let naive = matches!(
            dates.data_type(),
            DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        if !cents || !naive || ids.null_count() + dates.null_count() + amounts.null_count() > 0 {
            return Ok(None);
        }
        let ids = ids.values().to_vec();
        let dates = dates.values().to_vec();
        let amounts = amounts.values().to_vec();
        let clients = cast(clients, &DataType::Int64)?;
        let clients: Vec<Option<i64>> = clients.as_primitive::<Int64Type>().iter().collect();

        let all: Positions = (0..rows).collect();
        let mut by_date = all.clone();
        by_date.sort_unstable_by_key(|&p| (dates[p as usize], ids[p as usize]));
        let mut by_amount = all;
        by_amount.sort_unstable_by_key(|&p| (amounts[p as usize], ids[p as usize]));

        // Lists are filled walking `by_date`, so each comes out in date order.
        let mut by_client: HashMap<i64, Positions> = HashMap::new();
        for &p in &by_date {
            if let Some(client) = clients[p as usize] {
                by_client.entry(client).or_default().push(p);
            }
        }
        let countries = Codes::build(countries, &by_date)?;
        let products = Codes::build(products, &by_date)?;
        Ok(Some(Self {
            batch,
            ids,
            dates,
            amounts,
            clients,
            by_date,
            by_amount,
            by_client,
            countries,
            products,
        }))
    }

    /// Rows indexed.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.batch.num_rows() == 0
    }

    /// The rows `query` asks for, in its order; `None` when the query is not one this index
    /// answers (the caller asks DataFusion instead).
    pub fn page(&self, query: &TableQuery) -> Option<Result<RecordBatch, DataFusionError>> {
        let plan = Plan::read(query)?;
        let positions = UInt32Array::from(self.positions(&plan));
        Some(take_record_batch(&self.batch, &positions).map_err(DataFusionError::from))
    }

    fn key(&self, key: SortKey, p: u32) -> i128 {
        match key {
            SortKey::Date => i128::from(self.dates[p as usize]),
            SortKey::Amount => self.amounts[p as usize],
        }
    }

    /// Whether row `p` passes every filter of `plan`.
    fn keeps(&self, plan: &Plan, equal: &Equalities, p: u32) -> bool {
        let (row, date) = (p as usize, self.dates[p as usize]);
        plan.from.is_none_or(|from| date >= from)
            && plan.to.is_none_or(|to| date < to)
            && equal.client.is_none_or(|c| self.clients[row] == Some(c))
            && equal
                .country
                .is_none_or(|c| self.countries.row_codes[row] == c)
            && equal
                .product
                .is_none_or(|c| self.products.row_codes[row] == c)
    }

    /// Row positions of the page `plan` asks for, in its order.
    fn positions(&self, plan: &Plan) -> Positions {
        // A value no row has: no rows.
        let code = |codes: &Codes, value: &Option<String>| match value {
            None => Some(None),
            Some(v) => codes.code_of.get(v).map(|&c| Some(c)),
        };
        let (Some(country), Some(product)) = (
            code(&self.countries, &plan.country),
            code(&self.products, &plan.product),
        ) else {
            return Vec::new();
        };
        let equal = Equalities {
            client: plan.client,
            country,
            product,
        };
        // The shortest list of rows that hold every equality filter, if any filter.
        fn list(c: Option<u32>, codes: &Codes) -> Option<&[u32]> {
            c.map(|c| codes.lists[c as usize].as_slice())
        }
        let candidates = [
            equal
                .client
                .map(|c| self.by_client.get(&c).map_or(&[][..], Vec::as_slice)),
            list(equal.country, &self.countries),
            list(equal.product, &self.products),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|l| l.len());

        let key = plan.key.unwrap_or(SortKey::Date);
        // Positions in ascending (key, id_achat) order that hold every row the query can
        // return (and maybe others, which the walk filters out).
        let sorted_here: Positions;
        let ordered: &[u32] = match (candidates, key) {
            (Some(list), SortKey::Date) => list,
            (Some(list), SortKey::Amount) if list.len() <= SORT_ON_THE_SPOT => {
                let mut list: Positions = list
                    .iter()
                    .copied()
                    .filter(|&p| self.keeps(plan, &equal, p))
                    .collect();
                list.sort_unstable_by_key(|&p| (self.amounts[p as usize], self.ids[p as usize]));
                sorted_here = list;
                &sorted_here
            }
            (_, SortKey::Date) => &self.by_date,
            (_, SortKey::Amount) => &self.by_amount,
        };
        let position = |p: u32| (self.key(key, p), self.ids[p as usize]);
        // The slice [low, high) of `ordered` the date range and the cursor allow.
        let (mut low, mut high) = (0, ordered.len());
        if key == SortKey::Date {
            if let Some(from) = plan.from {
                low = ordered.partition_point(|&p| self.dates[p as usize] < from);
            }
            if let Some(to) = plan.to {
                high = ordered.partition_point(|&p| self.dates[p as usize] < to);
            }
        }
        if let Some(after) = plan.after {
            if plan.descending {
                high = high.min(ordered.partition_point(|&p| position(p) < after));
            } else {
                low = low.max(ordered.partition_point(|&p| position(p) <= after));
            }
        }
        let window = ordered.get(low..high.max(low)).unwrap_or_default();
        let wanted = plan
            .limit
            .map_or(usize::MAX, |l| l.saturating_add(plan.offset));
        let kept = |p: &u32| self.keeps(plan, &equal, *p);
        let mut found: Positions = if plan.descending {
            window
                .iter()
                .rev()
                .filter(|p| kept(p))
                .take(wanted)
                .copied()
                .collect()
        } else {
            window
                .iter()
                .filter(|p| kept(p))
                .take(wanted)
                .copied()
                .collect()
        };
        found.drain(..plan.offset.min(found.len()));
        found
    }
}

impl Codes {
    /// Codes of a text column, lists filled in the order of `order`.
    fn build(array: &dyn Array, order: &[u32]) -> Result<Self, DataFusionError> {
        let array = cast(array, &DataType::Utf8)?;
        let array = array.as_string::<i32>();
        let mut codes = Codes {
            row_codes: vec![NULL_CODE; array.len()],
            ..Codes::default()
        };
        for &p in order {
            let row = p as usize;
            if array.is_null(row) {
                continue;
            }
            let value = array.value(row);
            let code = match codes.code_of.get(value) {
                Some(&code) => code,
                None => {
                    let code = codes.lists.len() as u32;
                    codes.code_of.insert(value.to_string(), code);
                    codes.lists.push(Vec::new());
                    code
                }
            };
            codes.row_codes[row] = code;
            codes.lists[code as usize].push(p);
        }
        Ok(codes)
    }
}

impl Plan {
    /// `None` for anything the index does not answer.
    fn read(query: &TableQuery) -> Option<Self> {
        if query.table != TABLE {
            return None;
        }
        let mut plan = Plan {
            offset: query.offset,
            limit: query.limit,
            ..Plan::default()
        };
        for filter in &query.filters {
            match (filter.column, filter.op, &filter.value) {
                ("id_client", Op::Eq, Value::Int(v)) if plan.client.is_none() => {
                    plan.client = Some(*v)
                }
                ("pays", Op::Eq, Value::Text(v)) if plan.country.is_none() => {
                    plan.country = Some(v.clone())
                }
                ("produit", Op::Eq, Value::Text(v)) if plan.product.is_none() => {
                    plan.product = Some(v.clone())
                }
                ("date_achat", Op::Gte, Value::Timestamp(t)) if plan.from.is_none() => {
                    plan.from = Some(t.and_utc().timestamp_micros())
                }
                ("date_achat", Op::Lt, Value::Timestamp(t)) if plan.to.is_none() => {
                    plan.to = Some(t.and_utc().timestamp_micros())
                }
                _ => return None,
            }
        }
        match query.order.as_slice() {
            [] => {}
            [
                Order { column, descending },
                Order {
                    column: "id_achat",
                    descending: id_descending,
                },
            ] if descending == id_descending => {
                plan.key = Some(match *column {
                    "date_achat" => SortKey::Date,
                    "montant" => SortKey::Amount,
                    _ => return None,
                });
                plan.descending = *descending;
            }
            _ => return None,
        }
        if let Some(after) = &query.after {
            plan.after = Some(Plan::cursor(after, plan.key?, plan.descending)?);
        }
        if plan.key.is_none() && (plan.offset > 0 || plan.limit.is_some()) {
            // Without an order, which rows a limit keeps is up to the engine: leave it to it.
            return None;
        }
        Some(plan)
    }

    fn cursor(after: &After, key: SortKey, descending: bool) -> Option<(i128, i64)> {
        if after.id_column != "id_achat" || after.descending != descending {
            return None;
        }
        let value = match (key, after.column, &after.value) {
            (SortKey::Date, "date_achat", Value::Timestamp(t)) => {
                i128::from(t.and_utc().timestamp_micros())
            }
            (SortKey::Amount, "montant", Value::Cents(c)) => *c,
            _ => return None,
        };
        Some((value, after.id))
    }
}
