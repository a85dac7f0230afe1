//! The reference graph over a directory: who owns what, what sits in or
//! uses what, which records refer to whom. Built once for a batch of
//! questions; nodes carry indexes into the [`Directory`], not copies.

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::directory::Directory;

/// A node: an index into the directory's entity lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// `directory.users()[i]`.
    User(u32),
    /// `directory.accounts()[i]`.
    Account(u32),
    /// `directory.assets()[i]`.
    Asset(u32),
    /// `directory.references()[i]`: one table's rows referring to one account.
    Table(u32),
}

/// An edge, pointing from the holder to what it holds or needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// user → account: the identity behind the account.
    Identity,
    /// account → asset.
    Owns,
    /// asset → space it sits in.
    In,
    /// asset → asset it depends on.
    Uses,
    /// table → account, with the number of rows.
    Refers(u64),
}

/// The graph and the maps from ids to its nodes.
#[derive(Debug, Clone, Default)]
pub struct ReferenceGraph {
    graph: DiGraph<Node, Edge, u32>,
    accounts: HashMap<(String, String), NodeIndex>,
    assets: HashMap<String, NodeIndex>,
}

impl ReferenceGraph {
    /// Builds the graph of `directory`.
    pub fn build(directory: &Directory) -> Self {
        let users = directory.users();
        let accounts = directory.accounts();
        let assets = directory.assets();
        let references = directory.references();
        let nodes = users.len() + accounts.len() + assets.len() + references.len();
        let edges = accounts.len() * 2 + assets.len() * 2 + references.len();
        let mut graph = DiGraph::with_capacity(nodes, edges);
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);

        let mut user_nodes = HashMap::with_capacity(users.len());
        for (i, user) in users.iter().enumerate() {
            user_nodes.insert(user.id.as_str(), graph.add_node(Node::User(index(i))));
        }
        let mut account_nodes = HashMap::with_capacity(accounts.len());
        for (i, account) in accounts.iter().enumerate() {
            let node = graph.add_node(Node::Account(index(i)));
            if let Some(&user) = user_nodes.get(account.user.as_str()) {
                graph.add_edge(user, node, Edge::Identity);
            }
            account_nodes.insert((account.user.clone(), account.env.clone()), node);
        }
        let mut asset_nodes = HashMap::with_capacity(assets.len());
        for (i, asset) in assets.iter().enumerate() {
            asset_nodes.insert(asset.id.clone(), graph.add_node(Node::Asset(index(i))));
        }
        for asset in assets {
            let Some(&node) = asset_nodes.get(&asset.id) else { continue };
            if let Some(owner) = &asset.owner
                && let Some(&account) = account_nodes.get(&(owner.clone(), asset.env.clone()))
            {
                graph.add_edge(account, node, Edge::Owns);
            }
            if let Some(space) = asset.space.as_ref().and_then(|s| asset_nodes.get(s)) {
                graph.add_edge(node, *space, Edge::In);
            }
            for used in asset.uses.iter().filter_map(|u| asset_nodes.get(u)) {
                graph.add_edge(node, *used, Edge::Uses);
            }
        }
        for (i, reference) in references.iter().enumerate() {
            if let Some(&account) = account_nodes.get(&(reference.user.clone(), reference.env.clone())) {
                let table = graph.add_node(Node::Table(index(i)));
                graph.add_edge(table, account, Edge::Refers(reference.rows));
            }
        }
        ReferenceGraph { graph, accounts: account_nodes, assets: asset_nodes }
    }

    /// The node of the account of `user` in `env`.
    pub fn account(&self, user: &str, env: &str) -> Option<NodeIndex> {
        self.accounts.get(&(user.to_owned(), env.to_owned())).copied()
    }

    /// The node of asset `id`.
    pub fn asset(&self, id: &str) -> Option<NodeIndex> {
        self.assets.get(id).copied()
    }

    /// What a node is.
    pub fn node(&self, node: NodeIndex) -> Option<Node> {
        self.graph.node_weight(node).copied()
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Edges leaving `node`, with their targets.
    pub fn outgoing(&self, node: NodeIndex) -> impl Iterator<Item = (Edge, NodeIndex)> + '_ {
        self.graph.edges_directed(node, Direction::Outgoing).map(|e| (*e.weight(), e.target()))
    }

    /// Edges arriving at `node`, with their sources.
    pub fn incoming(&self, node: NodeIndex) -> impl Iterator<Item = (Edge, NodeIndex)> + '_ {
        self.graph.edges_directed(node, Direction::Incoming).map(|e| (*e.weight(), e.source()))
    }

    /// The edge between two nodes, if any.
    pub fn edge(&self, from: NodeIndex, to: NodeIndex) -> Option<EdgeIndex> {
        self.graph.find_edge(from, to)
    }
}
